import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { KubeConnection } from '../recorder/kube-client.js';
import { silentLogger, type Logger } from '../recorder/log.js';
import { mayServeStale, streamKeyOf, type FaultDecision, type FaultEngine } from './fault-engine.js';
import { protobufMeta } from './protobuf-meta.js';
import { requestInfoOf, type ResourceRequest } from '../model/request-info.js';
import { faultStatus, expiredWatchLine } from './statuses.js';
import type { ListSnapshot, ViewRecorder } from './view-records.js';
import { WatchRelay } from './watch-relay.js';

/**
 * The Kubernetes API reverse proxy of `kreplay proxy`: plain HTTP on loopback towards the controller, the
 * kubeconfig's credentials (and optional impersonation) towards the API server. Every request is forwarded as it
 * comes; responses stream back as they arrive (watches with no added buffering, watch-relay.ts); what the controller
 * was shown is recorded (view-records.ts) and the fault plan may change it (fault-engine.ts).
 *
 * Content types: client-go asks for protobuf for built-in types when configured to, but decodes any response by its
 * Content-Type (client-go rest/request.go transformResponse, newStreamWatcher), so an Accept that lists protobuf
 * is rewritten to JSON and everything the controller receives can be read. An Accept asking for a Table (kubectl)
 * is left alone, and a body the proxy cannot read as JSON is forwarded untouched and recorded only as far as the
 * URL and status go. Accept-Encoding is dropped upstream: the proxy reads what it forwards.
 */

export interface ProxyServerOptions {
  readonly upstream: KubeConnection;
  readonly recorder: ViewRecorder;
  readonly faults: FaultEngine;
  /** `--as` / `--as-group`: who the controller acts as (replaces any impersonation the kubeconfig sets). */
  readonly impersonate?: { readonly user?: string | undefined; readonly groups: readonly string[] };
  /**
   * `--request-timeout`: how long a request that is not long-running may take upstream before the proxy answers 504
   * itself (a hung connection must not hang the controller for ever). 0: never. Watches (and logs, exec, ...) are
   * never cut.
   */
  readonly requestTimeoutMs?: number;
  /**
   * Beyond loopback: serve TLS with this run's certificates (tls.ts) and take only clients holding a certificate of
   * its CA (the written kubeconfig's): plain HTTP there would hand the upstream credentials to anyone on the network.
   */
  readonly tls?: { readonly caPem: string; readonly certPem: string; readonly keyPem: string } | undefined;
  readonly log?: Logger;
}

/** The API server's own default request timeout is 60 s (--request-timeout): the proxy waits longer, and answers only when it did not. */
export const defaultRequestTimeoutMs = 90_000;

/** Requests the API server itself never times out (apiserver's long-running check: watch, and these subresources). */
const longRunningSubresources = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);
export function isLongRunning(request: ResourceRequest | undefined, query: URLSearchParams): boolean {
  if (request?.verb === 'watch') return true;
  if (request?.subresource && longRunningSubresources.has(request.subresource)) return true;
  return query.get('watch') === 'true' || query.get('watch') === '1' || query.get('follow') === 'true';
}

/** Hop-by-hop headers (RFC 9110 7.6.1) and the ones the proxy itself decides. */
const dropRequestHeaders = new Set(['host', 'connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'accept-encoding', 'authorization']);
const dropResponseHeaders = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'transfer-encoding', 'trailer', 'upgrade']);

/** Bodies read on the side (request bodies of writes, LIST and write responses) are kept up to this size. */
const maxTappedBody = 64 * 1024 * 1024;

export class ProxyServer {
  readonly server: http.Server;
  private readonly log: Logger;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly options: ProxyServerOptions) {
    this.log = options.log ?? silentLogger;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
    const tls = options.tls;
    this.server = tls ? https.createServer({ cert: tls.certPem, key: tls.keyPem, ca: tls.caPem, requestCert: true, rejectUnauthorized: true }, handler) : http.createServer(handler);
    // Watches last as long as the API server keeps them: no proxy-side request or idle timeout cuts them.
    this.server.requestTimeout = 0;
    this.server.timeout = 0;
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', (socket) => {
      // Small writes (one watch event) go out at once: no Nagle delay waiting for the client's delayed ACK.
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('upgrade', (req, socket) => {
      // exec/attach/port-forward (SPDY, WebSocket): not a controller's view; refused plainly rather than half-done.
      socket.end('HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nkreplay proxy does not forward upgraded connections (exec, attach, port-forward)\n');
      this.log.warn('refused an upgrade request', { url: req.url });
    });
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting, ends every open request (watches get their watch-closed marker) and resolves when closed. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
      this.server.closeAllConnections?.();
    });
    // Responses emit 'close' on a later tick than their sockets: let the open watches write their watch-closed.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const info = requestInfoOf(req.method ?? 'GET', req.url ?? '/');
    const request = info.kind === 'resource' ? info : undefined;
    const { faults, recorder } = this.options;
    let timeout: FaultDecision | undefined;
    if (request && request.verb !== 'watch') {
      const fault = faults.onRequest(request);
      if (fault?.action === 'fail') return this.answerFault(req, res, request, fault);
      timeout = fault;
    }
    const initialList = request !== undefined && ((request.verb === 'list' && !request.query.get('continue')) || (request.verb === 'watch' && request.query.get('sendInitialEvents') === 'true'));
    const snapshot = initialList ? recorder.snapshotOf(request) : undefined;
    const stale = snapshot && mayServeStale(request!.query, snapshot.resourceVersion) ? faults.onList(request!) : undefined;
    if (stale && snapshot) return this.answerStale(res, request!, snapshot, stale);
    if (request?.verb === 'watch') {
      const rv = request.query.get('resourceVersion');
      // Only a resume (a watch from a resourceVersion, not a fresh list-watch) can be too old.
      const resume = rv && rv !== '0' && request.query.get('sendInitialEvents') !== 'true';
      const expiry = resume ? faults.takeExpiry(streamKeyOf(request)) : undefined;
      if (expiry) return this.answerExpired(res, request, expiry, rv!);
      // A watch-list instead of a resume (client-go lists again when the initial events were cut): the server sends
      // the current state, which no compaction makes too old, so the armed expiry is spent.
      if (!resume) faults.takeExpiry(streamKeyOf(request));
    } else if (initialList) faults.takeExpiry(streamKeyOf(request!));
    void (request ? recorder.resolveKind(request) : Promise.resolve())
      .then(() => this.forward(req, res, request, timeout))
      .catch((error: unknown) => {
      // Already answered (the proxy's own timeout ended the upstream request): nothing more to say.
      if (res.writableEnded) return;
      this.log.error('proxying failed', { url: req.url, error: (error as Error).message });
      if (request) recorder.mark(request, 'error', { message: `proxy: ${(error as Error).message}` });
      if (!res.headersSent) {
        res.writeHead(502, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'ServiceUnavailable', code: 502, message: `kreplay proxy: the API server could not be reached: ${(error as Error).message}` }));
      } else res.destroy();
    });
  }

  private async upstreamHeaders(req: http.IncomingMessage): Promise<http.OutgoingHttpHeaders> {
    const headers: http.OutgoingHttpHeaders = {};
    // headersDistinct keeps repeated headers apart: client-go sends one Impersonate-Group line per group, which
    // req.headers would join into one group named "a, b".
    for (const [name, values] of Object.entries(req.headersDistinct)) {
      if (dropRequestHeaders.has(name) || values === undefined) continue;
      headers[name] = values.length === 1 ? values[0]! : values;
    }
    const accept = req.headers.accept;
    if (accept && accept.includes('application/vnd.kubernetes.protobuf') && !accept.includes('as=')) headers.accept = 'application/json';
    Object.assign(headers, await this.options.upstream.headers());
    const as = this.options.impersonate;
    if (as?.user) {
      headers['impersonate-user'] = as.user;
      delete headers['Impersonate-User'];
      if (as.groups.length) headers['impersonate-group'] = [...as.groups];
    }
    return headers;
  }

  private async forward(req: http.IncomingMessage, res: http.ServerResponse, request: ResourceRequest | undefined, timeout: FaultDecision | undefined): Promise<void> {
    const { upstream, recorder } = this.options;
    const startedAt = performance.now();
    const server = upstream.server;
    const transport = server.protocol === 'http:' ? http : https;
    const headers = await this.upstreamHeaders(req);
    const observedAt = recorder.observedAt();
    const isWrite = request !== undefined && request.verb !== 'watch' && request.verb !== 'list' && request.verb !== 'get';
    const requestBody = isWrite ? new BodyTap(req.headers['content-type']) : undefined;
    const upstreamRequest = transport.request({
      method: req.method,
      protocol: server.protocol,
      hostname: server.hostname.replace(/^\[|\]$/g, ''),
      port: server.port || (server.protocol === 'https:' ? 443 : 80),
      path: `${server.pathname.replace(/\/$/, '')}${req.url ?? '/'}`,
      headers,
      agent: upstream.agent,
    });
    upstreamRequest.on('socket', (socket) => socket.setNoDelay(true));
    res.on('close', () => {
      if (!res.writableFinished) upstreamRequest.destroy();
    });
    req.on('data', (chunk: Buffer) => requestBody?.add(chunk));
    req.pipe(upstreamRequest);
    const limit = this.options.requestTimeoutMs ?? defaultRequestTimeoutMs;
    const url = new URL(req.url ?? '/', 'http://proxy');
    const timer =
      limit > 0 && !isLongRunning(request, url.searchParams)
        ? setTimeout(() => this.upstreamTimedOut(res, request, upstreamRequest, limit), limit)
        : undefined;
    res.on('close', () => clearTimeout(timer));
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      upstreamRequest.once('response', resolve);
      upstreamRequest.once('error', reject);
    });
    // The API server answered in full: the proxy's own limit no longer applies (a timeout fault may still be waiting).
    response.once('end', () => clearTimeout(timer));
    upstreamRequest.on('error', () => {
      if (!res.writableEnded) res.destroy();
    });
    const responseHeaders: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(response.headers)) if (!dropResponseHeaders.has(name) && value !== undefined) responseHeaders[name] = value;
    const status = response.statusCode ?? 502;
    if (timeout && request) return this.answerTimedOut(req, res, request, timeout, response, { requestBody, observedAt, startedAt });
    res.writeHead(status, response.statusMessage, responseHeaders);
    // A watch's headers go out at once (client-go waits for them before it reads); other answers go with their body.
    if (request?.verb === 'watch') res.flushHeaders();
    const json = (response.headers['content-type'] ?? '').startsWith('application/json');
    if (request?.verb === 'watch' && status === 200) {
      if (!json) {
        recorder.mark(request, 'error', { message: `watch answered as ${response.headers['content-type'] ?? 'no content type'}: forwarded, not recorded (the proxy reads JSON only)` });
        response.pipe(res);
        return;
      }
      new WatchRelay({ request, upstream: response, response: res, recorder, faults: this.options.faults, streamKey: streamKeyOf(request), abortUpstream: () => upstreamRequest.destroy() }).start();
      return;
    }
    const tapResponse = request !== undefined && (isWrite || (request.verb === 'list' && status === 200) || (request.verb === 'get' && status >= 400) || (request.verb === 'watch' && status >= 400));
    const responseBody = tapResponse && json ? new BodyTap(response.headers['content-type']) : undefined;
    response.on('data', (chunk: Buffer) => {
      if (!res.write(chunk)) {
        response.pause();
        res.once('drain', () => response.resume());
      }
      responseBody?.add(chunk);
    });
    response.on('end', () => {
      res.end();
      if (!request || !tapResponse) return;
      const body = responseBody?.json();
      try {
        if (request.verb === 'list') {
          if (body && typeof body === 'object') recorder.listPage(request, body as never);
          else recorder.mark(request, 'error', { message: `LIST answer not recorded: ${responseBody ? 'not readable JSON' : `content type ${response.headers['content-type'] ?? 'none'}`}` });
        } else if (request.verb === 'watch') {
          recorder.mark(request, status === 410 ? 'gone' : 'error', { code: status, message: `watch request refused: ${describeStatus(body, status)}` });
        } else {
          recorder.api(request, { code: status, requestBody: requestBody?.json(), responseBody: body, userAgent: req.headers['user-agent'], impersonated: this.impersonated(req), observedAt });
        }
      } catch (error) {
        // One odd answer never stops the proxy: it is noted, and the controller got its bytes regardless.
        recorder.mark(request, 'error', { message: `could not record the answer to ${request.verb}: ${(error as Error).message}` });
      }
    });
    response.on('error', () => res.destroy());
  }

  private impersonated(req: http.IncomingMessage): string | undefined {
    const header = req.headers['impersonate-user'];
    return this.options.impersonate?.user ?? (typeof header === 'string' && header ? header : undefined);
  }

  /**
   * A `timeout` rule: the request went to the API server, which answered (a write is applied), but the controller
   * is answered 504 Timeout once the rule's delay has passed, as the API server's timeout filter answers a request
   * whose handler ran too long (apiserver pkg/server/filters/timeout.go: the handler goes on, the client gets 504).
   * The controller cannot tell whether its write landed; its watch will say.
   */
  private answerTimedOut(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    request: ResourceRequest,
    fault: FaultDecision,
    response: http.IncomingMessage,
    sent: { requestBody: BodyTap | undefined; observedAt: string; startedAt: number },
  ): void {
    const { recorder, faults } = this.options;
    const answer = new BodyTap(response.headers['content-type']);
    const raw: Buffer[] = [];
    response.on('data', (chunk: Buffer) => {
      answer.add(chunk);
      raw.push(chunk);
    });
    response.on('end', () => {
      const upstreamStatus = response.statusCode ?? 0;
      const body = answer.json() as { metadata?: { resourceVersion?: unknown } } | undefined;
      const rv = typeof body?.metadata?.resourceVersion === 'string' && upstreamStatus < 300 ? body.metadata.resourceVersion : undefined;
      const wait = Math.max(0, fault.delayMs - (performance.now() - sent.startedAt));
      const timer = setTimeout(() => {
        if (res.destroyed || res.headersSent) return;
        const apiRecord = { requestBody: sent.requestBody?.json(), userAgent: req.headers['user-agent'], impersonated: this.impersonated(req), observedAt: sent.observedAt };
        if (!faults.active) {
          // The faults stopped while the answer was held: the controller gets the server's own answer, late.
          const headers: http.OutgoingHttpHeaders = {};
          for (const [name, value] of Object.entries(response.headers)) if (!dropResponseHeaders.has(name) && value !== undefined) headers[name] = value;
          res.writeHead(upstreamStatus, response.statusMessage, headers);
          res.end(Buffer.concat(raw));
          recorder.api(request, { ...apiRecord, code: upstreamStatus, responseBody: body });
          return;
        }
        const status = faultStatus(504, request);
        status.message = 'Timeout: request did not complete within the allotted timeout';
        recorder.mark(request, 'fault', {
          code: 504,
          resourceVersion: rv,
          message: `fault "${fault.ruleName}": sent ${request.verb} of ${request.namespace ? `${request.namespace}/` : ''}${request.name ?? request.resource} to the API server (answered ${upstreamStatus}${rv ? `, resourceVersion ${rv}` : ''}) and answered the controller 504 Timeout after ${fault.delayMs} ms`,
        });
        res.writeHead(504, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(status));
        recorder.api(request, { ...apiRecord, code: 504, responseBody: status });
      }, wait);
      res.on('close', () => clearTimeout(timer));
    });
    response.on('error', () => res.destroy());
  }

  /** The proxy's own limit for a request that is not long-running: the controller gets 504 rather than a hang. */
  private upstreamTimedOut(res: http.ServerResponse, request: ResourceRequest | undefined, upstreamRequest: http.ClientRequest, limitMs: number): void {
    upstreamRequest.destroy();
    const message = `kreplay proxy: the API server did not answer within ${limitMs / 1000} s (--request-timeout)`;
    if (request) this.options.recorder.mark(request, 'error', { code: 504, message: `${request.verb} ${request.namespace ? `${request.namespace}/` : ''}${request.name ?? request.resource}: ${message}` });
    this.log.warn('the API server did not answer in time', { url: res.req?.url, timeoutMs: limitMs });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(504, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Timeout', code: 504, message }));
  }

  /** A `fail` rule: the request never reaches the API server; the controller gets the Status a real one would send. */
  private answerFault(req: http.IncomingMessage, res: http.ServerResponse, request: ResourceRequest, fault: FaultDecision): void {
    const { recorder } = this.options;
    const observedAt = recorder.observedAt();
    const requestBody = new BodyTap(req.headers['content-type']);
    req.on('data', (chunk: Buffer) => requestBody.add(chunk));
    req.on('end', () => {
      const status = faultStatus(fault.code ?? 500, request);
      recorder.mark(request, 'fault', { code: status.code, message: `fault "${fault.ruleName}": answered ${request.verb} of ${request.namespace ? `${request.namespace}/` : ''}${request.name ?? request.resource} with ${status.code} ${status.reason} (not sent to the API server)` });
      res.writeHead(status.code, { 'Content-Type': 'application/json', ...(status.code === 429 ? { 'Retry-After': '1' } : {}) });
      res.end(JSON.stringify(status));
      recorder.api(request, { code: status.code, requestBody: requestBody.json(), responseBody: status, userAgent: req.headers['user-agent'], impersonated: this.impersonated(req), observedAt });
    });
    req.resume();
  }

  /**
   * A `stale-list` rule: the list is answered with the previous list the controller was given (an API server whose
   * cache lags after a restart, Sieve's stale state). A LIST gets it as its body; a watch with sendInitialEvents gets
   * it as initial events ending with the initial-events-end bookmark at the old resourceVersion, and is then closed,
   * so the client watches on from that old resourceVersion and the real server replays what changed since (or
   * answers 410 if it is compacted, and the client relists).
   */
  private answerStale(res: http.ServerResponse, request: ResourceRequest, snapshot: ListSnapshot, fault: FaultDecision): void {
    const { recorder } = this.options;
    const apiVersion = request.group ? `${request.group}/${request.version}` : request.version;
    const items = snapshot.items.map((item) => ({ ...item, apiVersion, kind: snapshot.kind }));
    const message = `fault "${fault.ruleName}": answered the ${request.verb === 'list' ? 'LIST' : 'initial events'} with the previous list (resourceVersion ${snapshot.resourceVersion}, ${items.length} object(s)), not the current state`;
    if (request.verb === 'list') {
      recorder.mark(request, 'fault', { resourceVersion: snapshot.resourceVersion, message });
      const body = { kind: `${snapshot.kind}List`, apiVersion, metadata: { resourceVersion: snapshot.resourceVersion }, items: snapshot.items };
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
      recorder.listPage(request, body, { stale: true });
      return;
    }
    recorder.mark(request, 'watch-started', { message: 'watch as delivered to the controller (sendInitialEvents)' });
    recorder.mark(request, 'fault', { resourceVersion: snapshot.resourceVersion, message });
    const bookmark = { kind: snapshot.kind, apiVersion, metadata: { resourceVersion: snapshot.resourceVersion, annotations: { 'k8s.io/initial-events-end': 'true' } } };
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    const observedAt = recorder.observedAt();
    const records = items.map((item) => recorder.watchRecord(request, 'ADDED', item, 'watch', observedAt));
    records.push(recorder.marker(request, 'list-finished', { resourceVersion: snapshot.resourceVersion, count: items.length, message: `${items.length} initial event(s), stale` }, observedAt));
    records.push(recorder.watchRecord(request, 'BOOKMARK', bookmark, 'watch', observedAt));
    res.end([...items.map((object) => JSON.stringify({ type: 'ADDED', object })), JSON.stringify({ type: 'BOOKMARK', object: bookmark }), ''].join('\n'));
    recorder.events(records);
    recorder.mark(request, 'watch-closed', { resourceVersion: snapshot.resourceVersion, count: items.length, message: `closed after a stale list (fault "${fault.ruleName}")` });
  }

  /** An `expire` rule armed on this stream: the resume is answered the way the watch cache answers a too-old RV. */
  private answerExpired(res: http.ServerResponse, request: ResourceRequest, fault: FaultDecision, rv: string): void {
    const { recorder } = this.options;
    const line = expiredWatchLine(rv);
    recorder.mark(request, 'watch-started', { resourceVersion: rv, message: 'watch as delivered to the controller' });
    recorder.mark(request, 'fault', { code: 410, resourceVersion: rv, message: `fault "${fault.ruleName}": answered the resume from resourceVersion ${rv} with 410 Expired` });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.end(`${line}\n`);
    recorder.mark(request, 'gone', { code: 410, resourceVersion: rv, message: JSON.parse(line).object.message as string });
    recorder.mark(request, 'watch-closed', { resourceVersion: rv, count: 0, message: `closed after 410 Expired (fault "${fault.ruleName}")` });
  }
}

/** Collects a body that passes through, up to a limit, to read it as JSON once it has passed. */
class BodyTap {
  private chunks: Buffer[] = [];
  private size = 0;
  private overflow = false;

  constructor(private readonly contentType: string | undefined) {}

  add(chunk: Buffer): void {
    if (this.overflow) return;
    this.size += chunk.length;
    if (this.size > maxTappedBody) {
      this.overflow = true;
      this.chunks = [];
      return;
    }
    this.chunks.push(chunk);
  }

  json(): unknown {
    if (this.overflow || this.size === 0) return undefined;
    // A typed client's protobuf body: its metadata only (what a write's record needs: the resourceVersion sent).
    if (this.contentType?.startsWith('application/vnd.kubernetes.protobuf')) return protobufMeta(Buffer.concat(this.chunks));
    // Patches are JSON too (json-patch, merge-patch, strategic-merge-patch, apply-patch+yaml is not).
    if (this.contentType && !/json/.test(this.contentType)) return undefined;
    try {
      return JSON.parse(Buffer.concat(this.chunks).toString('utf8'));
    } catch {
      return undefined;
    }
  }
}

function describeStatus(body: unknown, code: number): string {
  const status = body as { reason?: unknown; message?: unknown } | undefined;
  return `${code}${typeof status?.reason === 'string' ? ` ${status.reason}` : ''}${typeof status?.message === 'string' ? `: ${status.message}` : ''}`;
}
