import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeObject } from '../model/index.js';
import { requestInfoOf } from '../model/request-info.js';

/**
 * A small, faithful fake of the API server's list/watch protocol over real HTTP on loopback, for the faults a real
 * server cannot produce on demand: a 410 in the middle of a stream, a malformed line, a connection that goes
 * silent, an expired continue token, back-pressure. It is never a substitute for the real server: the e2e tests
 * (e2e/recorder.e2e.test.ts) run against kube-apiserver.
 *
 * Modelled on the real thing: one global revision counter (etcd's), resourceVersion = the revision of the last
 * write, list with limit/continue (items without apiVersion/kind, like a typed List), watch from an RV replaying the
 * history after it, in-stream `ERROR` Status 410 Expired for an RV older than the compaction, bookmarks carrying only
 * a resourceVersion, `timeoutSeconds` ending the stream cleanly, discovery documents at /api/v1 and /apis/<g>/<v>.
 */

export interface FakeResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

interface HistoryEntry {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly key: string;
  readonly namespace: string | null;
  readonly object: KubeObject;
}

interface Watcher {
  readonly res: http.ServerResponse;
  readonly resource: FakeResource;
  readonly namespace: string | null;
  readonly bookmarks: boolean;
  /** Encoded events not written yet, and whether a flush is scheduled (see send). */
  pending: string[];
  pendingBytes: number;
  flushScheduled: boolean;
}

/** net/http's bufferBeforeChunkingSize: a response buffers this much before it writes a chunk. */
const CHUNK_BUFFER_BYTES = 2048;

interface Collection {
  readonly resource: FakeResource;
  readonly objects: Map<string, KubeObject>;
  readonly history: HistoryEntry[];
}

export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
}

export class FakeApiServer {
  private readonly server: http.Server;
  private readonly collections = new Map<string, Collection>();
  private readonly watchers = new Set<Watcher>();
  private revision = 100;
  private compactedAt = 0;
  private uidCounter = 0;
  private failures: { match: (r: FakeRequest) => boolean; status: number; body: unknown; times: number }[] = [];
  /** Every request, for assertions. */
  readonly requests: FakeRequest[] = [];
  /** Pretty-print list bodies to make them bigger (bench). */
  silentWatches = false;

  constructor(resources: readonly FakeResource[] = []) {
    for (const resource of resources) this.addResource(resource);
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    const address = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Serves a new resource from now on (a CRD being created). */
  addResource(resource: FakeResource): void {
    this.collections.set(keyOf(resource.group, resource.resource), { resource, objects: new Map(), history: [] });
  }

  removeResource(group: string, resource: string): void {
    this.collections.delete(keyOf(group, resource));
    for (const watcher of this.watchers) {
      if (watcher.resource.group !== group || watcher.resource.resource !== resource) continue;
      this.flushWatcher(watcher);
      watcher.res.destroy();
    }
  }

  get currentRevision(): string {
    return String(this.revision);
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  private collection(group: string, resource: string): Collection {
    const collection = this.collections.get(keyOf(group, resource));
    if (!collection) throw new Error(`fake: ${group}/${resource} is not served`);
    return collection;
  }

  // ---- writes -------------------------------------------------------------------------------------------------

  create(group: string, resource: string, namespace: string | null, name: string, fields: Record<string, unknown> = {}): KubeObject {
    const collection = this.collection(group, resource);
    const key = objectKey(namespace, name);
    if (collection.objects.has(key)) throw new Error(`fake: ${key} exists`);
    this.revision += 1;
    this.uidCounter += 1;
    const r = collection.resource;
    const { metadata: extraMetadata, ...rest } = fields as { metadata?: Record<string, unknown> };
    const object: KubeObject = {
      apiVersion: r.group ? `${r.group}/${r.version}` : r.version,
      kind: r.kind,
      ...rest,
      metadata: {
        ...extraMetadata,
        name,
        ...(namespace ? { namespace } : {}),
        uid: `uid-${this.uidCounter.toString().padStart(6, '0')}`,
        resourceVersion: String(this.revision),
        generation: 1,
        creationTimestamp: '2026-11-25T10:00:00Z',
      },
    };
    collection.objects.set(key, object);
    this.emit(collection, 'ADDED', key, namespace, object);
    return object;
  }

  update(group: string, resource: string, namespace: string | null, name: string, fields: Record<string, unknown>): KubeObject {
    const collection = this.collection(group, resource);
    const key = objectKey(namespace, name);
    const current = collection.objects.get(key);
    if (!current) throw new Error(`fake: ${key} does not exist`);
    this.revision += 1;
    const { metadata: extraMetadata, ...rest } = fields as { metadata?: Record<string, unknown> };
    const object: KubeObject = {
      ...current,
      ...rest,
      metadata: { ...current.metadata, ...extraMetadata, resourceVersion: String(this.revision), generation: (current.metadata?.generation ?? 1) + ('spec' in fields ? 1 : 0) },
    };
    collection.objects.set(key, object);
    this.emit(collection, 'MODIFIED', key, namespace, object);
    return object;
  }

  delete(group: string, resource: string, namespace: string | null, name: string, options: { silently?: boolean } = {}): KubeObject {
    const collection = this.collection(group, resource);
    const key = objectKey(namespace, name);
    const current = collection.objects.get(key);
    if (!current) throw new Error(`fake: ${key} does not exist`);
    this.revision += 1;
    collection.objects.delete(key);
    const object: KubeObject = { ...current, metadata: { ...current.metadata, resourceVersion: String(this.revision) } };
    // silently: the deletion happens while no watch can see it and its history is compacted away at once.
    if (options.silently) this.compactedAt = this.revision;
    else this.emit(collection, 'DELETED', key, namespace, object);
    return object;
  }

  private emit(collection: Collection, type: HistoryEntry['type'], key: string, namespace: string | null, object: KubeObject): void {
    const entry: HistoryEntry = { rv: this.revision, type, key, namespace, object };
    collection.history.push(entry);
    // Bounded history, like the watch cache's window.
    if (collection.history.length > 200_000) collection.history.splice(0, 100_000);
    for (const watcher of this.watchers) {
      if (watcher.resource !== collection.resource) continue;
      if (watcher.namespace !== null && watcher.namespace !== namespace) continue;
      this.send(watcher, { type, object });
    }
  }

  /**
   * Writes one event the way kube-apiserver does: encoded into the response's buffer, which becomes an HTTP chunk
   * when it holds CHUNK_BUFFER_BYTES, and flushed only once no more events are queued for the watcher
   * (k8s.io/apiserver pkg/endpoints/handlers/watch.go: `if len(ch) == 0 { flusher.Flush() }`). Events produced
   * together reach the client in a few chunks, not one chunk each; "queued" here means produced in the same tick.
   */
  private send(watcher: Watcher, event: unknown): void {
    if (this.silentWatches) return;
    const line = `${JSON.stringify(event)}\n`;
    if (watcher.pendingBytes + line.length > CHUNK_BUFFER_BYTES && watcher.pending.length) this.flushWatcher(watcher);
    watcher.pending.push(line);
    watcher.pendingBytes += line.length;
    if (!watcher.flushScheduled) {
      watcher.flushScheduled = true;
      setImmediate(() => {
        watcher.flushScheduled = false;
        this.flushWatcher(watcher);
      });
    }
  }

  private flushWatcher(watcher: Watcher): void {
    if (watcher.pending.length === 0) return;
    const text = watcher.pending.join('');
    watcher.pending = [];
    watcher.pendingBytes = 0;
    if (!watcher.res.destroyed && !watcher.res.writableEnded) watcher.res.write(text);
  }

  // ---- faults -------------------------------------------------------------------------------------------------

  /** Forget history up to now: a watch from an older RV gets ERROR 410, like after an etcd compaction. */
  compact(): string {
    this.compactedAt = this.revision;
    return String(this.revision);
  }

  /** Sends a BOOKMARK at the current revision to every watch that asked for bookmarks. */
  bookmark(): void {
    for (const watcher of this.watchers) {
      if (watcher.bookmarks) this.send(watcher, { type: 'BOOKMARK', object: { kind: watcher.resource.kind, apiVersion: apiVersion(watcher.resource), metadata: { resourceVersion: String(this.revision) } } });
    }
  }

  /** Writes raw text to every open watch (a malformed line, half a line). */
  injectRaw(text: string | Buffer): void {
    for (const watcher of this.watchers) {
      this.flushWatcher(watcher);
      watcher.res.write(text);
    }
  }

  /** Sends the in-stream ERROR 410 Expired to every open watch and ends them, as the cacher does. */
  expireWatches(): void {
    for (const watcher of [...this.watchers]) {
      this.flushWatcher(watcher);
      watcher.res.end(`${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'too old resource version: 1 (2)') })}\n`);
    }
  }

  /** Cuts every watch connection without a clean end (an API server restart, a network drop). */
  dropWatches(): void {
    // What was written before the drop was on the wire; flush it first so tests stay deterministic.
    for (const watcher of [...this.watchers]) {
      this.flushWatcher(watcher);
      watcher.res.destroy();
    }
    this.watchers.clear();
  }

  /** Ends every watch cleanly (the server-side timeout). */
  endWatches(): void {
    for (const watcher of [...this.watchers]) {
      this.flushWatcher(watcher);
      watcher.res.end();
    }
  }

  /** The next `times` requests matching get this HTTP answer. */
  failNext(match: (r: FakeRequest) => boolean, status: number, body: unknown = {}, times = 1): void {
    this.failures.push({ match, status, body, times });
  }

  // ---- HTTP ---------------------------------------------------------------------------------------------------

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const request: FakeRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams) };
    this.requests.push(request);
    const failure = this.failures.find((f) => f.times > 0 && f.match(request));
    if (failure) {
      failure.times -= 1;
      return json(res, failure.status, failure.body);
    }
    const info = requestInfoOf(request.method, req.url ?? '/');
    if (info.kind === 'other') {
      if (info.discovery) return this.discovery(res, info.discovery.group, info.discovery.version);
      return json(res, 404, status(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`));
    }
    // Collections only: list and watch of one resource, cluster-wide or in a namespace.
    const collection = this.collections.get(keyOf(info.group, info.resource));
    if (!collection || info.name !== null || info.subresource !== null || collection.resource.version !== info.version) {
      return json(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    }
    if (info.verb === 'watch') return this.watch(req, res, collection, info.namespace, request.query);
    return this.list(res, collection, info.namespace, request.query);
  }

  private discovery(res: http.ServerResponse, group: string, version: string): void {
    const resources = [...this.collections.values()].map((c) => c.resource).filter((r) => r.group === group && r.version === version);
    if (resources.length === 0) return json(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    json(res, 200, {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources: resources.map((r) => ({ name: r.resource, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] })),
    });
  }

  private list(res: http.ServerResponse, collection: Collection, namespace: string | null, query: Record<string, string>): void {
    const all = [...collection.objects.entries()]
      .filter(([, o]) => namespace === null || o.metadata?.namespace === namespace)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, o]) => {
        // Items of a typed List carry no apiVersion/kind.
        const { apiVersion: _a, kind: _k, ...item } = o;
        return item;
      });
    let offset = 0;
    let listRV = this.revision;
    if (query['continue']) {
      const [rv, start] = Buffer.from(query['continue'], 'base64url').toString('utf8').split(':').map(Number);
      if (rv! < this.compactedAt) {
        return json(res, 410, status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.'));
      }
      offset = start!;
      listRV = rv!;
    }
    const limit = query['limit'] ? Number(query['limit']) : Infinity;
    const page = all.slice(offset, offset + limit);
    const more = offset + page.length < all.length;
    json(res, 200, {
      kind: `${collection.resource.kind}List`,
      apiVersion: apiVersion(collection.resource),
      metadata: { resourceVersion: String(listRV), ...(more ? { continue: Buffer.from(`${listRV}:${offset + page.length}`).toString('base64url') } : {}) },
      items: page,
    });
  }

  private watch(req: http.IncomingMessage, res: http.ServerResponse, collection: Collection, namespace: string | null, query: Record<string, string>): void {
    const from = Number(query['resourceVersion'] ?? '0');
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    if (from !== 0 && from < this.compactedAt) {
      res.end(`${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${this.compactedAt})`) })}\n`);
      return;
    }
    const watcher: Watcher = { res, resource: collection.resource, namespace, bookmarks: query['allowWatchBookmarks'] === 'true', pending: [], pendingBytes: 0, flushScheduled: false };
    for (const entry of collection.history) {
      if (entry.rv > from && (namespace === null || entry.namespace === namespace)) this.send(watcher, { type: entry.type, object: entry.object });
    }
    this.watchers.add(watcher);
    const timeout = Number(query['timeoutSeconds'] ?? 0);
    const timer = timeout > 0 ? setTimeout(() => (this.flushWatcher(watcher), res.end()), timeout * 1000) : undefined;
    const done = () => {
      clearTimeout(timer);
      this.watchers.delete(watcher);
    };
    res.on('close', done);
    req.on('close', done);
  }
}

function keyOf(group: string, resource: string): string {
  return `${group}/${resource}`;
}

function objectKey(namespace: string | null, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function apiVersion(r: FakeResource): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function json(res: http.ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export const configMaps: FakeResource = { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true };
export const secrets: FakeResource = { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true };
export const namespacesResource: FakeResource = { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false };
export const widgets: FakeResource = { group: 'example.kreplay.dev', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true };
