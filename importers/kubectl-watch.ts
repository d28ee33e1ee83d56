import { parseApiVersion, redactObject, watchEventTypes, type KubeObject, type MarkerRecord, type WatchEventRecord } from '../model/index.js';
import { JsonValueSplitter } from './json-splitter.js';
import { guessResource } from './kinds.js';
import { checkedRecord, isPlainObject, parseJson, SkipCounter, type ImportParser, type ParseEvent } from './parser.js';

/**
 * Imports what kubectl prints, in every shape it prints it:
 * - `kubectl get RES -w --output-watch-events -o json`: `{"type":"ADDED","object":{...}}` events, pretty-printed
 *   back to back (or one per line, as `kubectl get --raw '/apis/...?watch=1'` streams them). `ERROR` events carry a
 *   Status and become markers: `gone` for 410 (an expired resourceVersion), `error` otherwise.
 * - `kubectl get RES -w -o json` (no event types): plain objects back to back. The first sighting of a uid is
 *   ADDED, later ones MODIFIED; a deletion is invisible in this shape.
 * - `kubectl get RES -o json`: a `List` whose items are imported as ADDED.
 *
 * A dump has no group/version/resource, only apiVersion and kind: the resource is guessed from the kind
 * (kinds.ts). It has no event times either: observedAt is the newest time the object itself carries (managedFields
 * times, deletionTimestamp, creationTimestamp for an ADDED), never earlier than the record before it so the order
 * stays monotonic, and null when the object carries none (`kubectl get` hides managedFields unless
 * `--show-managed-fields`): then the session keeps the order only.
 */

export interface KubectlWatchOptions {
  /** Extra dotted paths to redact on every object, as the recorder's `redaction.paths` (Secret data always is). */
  redact?: readonly string[];
}

const eventTypes: readonly string[] = [...watchEventTypes, 'ERROR'];

/** RFC 3339 times on the object that say when it last changed. */
function objectTimes(object: Record<string, unknown>, type: string): string[] {
  const metadata = isPlainObject(object.metadata) ? object.metadata : {};
  const times: string[] = [];
  if (Array.isArray(metadata.managedFields)) {
    for (const entry of metadata.managedFields) {
      if (isPlainObject(entry) && typeof entry.time === 'string') times.push(entry.time);
    }
  }
  const deletionRequested = deletionRequestTime(metadata);
  if (deletionRequested) times.push(deletionRequested);
  if (type === 'ADDED' && typeof metadata.creationTimestamp === 'string') times.push(metadata.creationTimestamp);
  return times;
}

/**
 * When the deletion was asked for: a graceful deletion sets deletionTimestamp to the request time *plus* the grace
 * period (apiserver pkg/registry/rest/delete.go BeforeDelete), so a Pod with terminationGracePeriodSeconds 604800
 * carries a deletionTimestamp a week ahead. Read as "now", it would move the session clock a week forward.
 */
export function deletionRequestTime(metadata: Record<string, unknown>): string | undefined {
  if (typeof metadata.deletionTimestamp !== 'string') return undefined;
  const grace = typeof metadata.deletionGracePeriodSeconds === 'number' ? metadata.deletionGracePeriodSeconds : 0;
  if (grace <= 0) return metadata.deletionTimestamp;
  const ms = Date.parse(metadata.deletionTimestamp);
  return Number.isFinite(ms) ? new Date(ms - grace * 1000).toISOString().replace('.000Z', 'Z') : undefined;
}

/** `too old resource version: 1200 (1590)` (apiserver watch_cache.go) -> '1200'. */
function tooOldResourceVersion(message: string | undefined): string | undefined {
  return message ? /too old resource version: (\d+)/.exec(message)?.[1] : undefined;
}

export function createKubectlWatchParser(options: KubectlWatchOptions = {}): ImportParser {
  const splitter = new JsonValueSplitter();
  const skipped = new SkipCounter();
  const seenUids = new Set<string>();
  const redactPaths = options.redact ?? [];
  let lastTime: { ms: number; text: string } | undefined;

  function observedAt(object: Record<string, unknown>, type: string): string | null {
    let newest: { ms: number; text: string } | undefined;
    for (const text of objectTimes(object, type)) {
      const ms = Date.parse(text);
      if (Number.isFinite(ms) && (!newest || ms > newest.ms)) newest = { ms, text };
    }
    if (!newest) return null;
    if (lastTime && newest.ms < lastTime.ms) return lastTime.text; // clamp: never go back in time
    lastTime = newest;
    return newest.text;
  }

  function statusMarker(status: Record<string, unknown>, line: number): ParseEvent {
    const code = typeof status.code === 'number' ? status.code : undefined;
    const message = typeof status.message === 'string' ? status.message : undefined;
    const marker: MarkerRecord = {
      record: 'marker',
      observedAt: null, // a Status carries no time
      origin: 'import',
      marker: code === 410 ? 'gone' : 'error',
      ...(code !== undefined ? { code } : {}),
      ...(message !== undefined ? { message } : {}),
    };
    const tooOld = code === 410 ? tooOldResourceVersion(message) : undefined;
    if (tooOld) marker.resourceVersion = tooOld;
    return checkedRecord(marker, line);
  }

  function watchRecord(type: string, object: Record<string, unknown>, line: number): ParseEvent {
    if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') {
      return { kind: 'problem', line, problem: 'the object has no apiVersion or kind' };
    }
    const metadata = isPlainObject(object.metadata) ? object.metadata : {};
    const uid = typeof metadata.uid === 'string' && metadata.uid !== '' ? metadata.uid : null;
    if (type !== 'BOOKMARK' && uid === null) {
      return { kind: 'problem', line, problem: `${object.kind} ${String(metadata.name ?? '?')} has no metadata.uid: not an object as the API server returns it` };
    }
    if (uid !== null) seenUids.add(uid);
    const { group, version } = parseApiVersion(object.apiVersion);
    const bookmark = type === 'BOOKMARK';
    const record: WatchEventRecord = {
      record: 'watch',
      observedAt: bookmark ? null : observedAt(object, type),
      origin: 'import',
      group,
      version,
      resource: guessResource(object.kind),
      kind: object.kind,
      type: type as WatchEventRecord['type'],
      namespace: typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : null,
      name: bookmark ? null : typeof metadata.name === 'string' ? metadata.name : null,
      uid: bookmark ? null : uid,
      resourceVersion: typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : '',
      generation: typeof metadata.generation === 'number' ? metadata.generation : null,
      object: bookmark ? null : redactObject(object as KubeObject, redactPaths),
    };
    return checkedRecord(record, line);
  }

  function onValue(text: string, line: number): ParseEvent | undefined {
    const parsed = parseJson(text, line);
    if (!parsed.ok) return parsed.event;
    const value = parsed.value;
    if (!isPlainObject(value)) return { kind: 'problem', line, problem: 'not a JSON object' };

    if (typeof value.type === 'string' && 'object' in value) {
      if (!eventTypes.includes(value.type)) return { kind: 'problem', line, problem: `unknown watch event type "${value.type}"` };
      if (!isPlainObject(value.object)) return { kind: 'problem', line, problem: `the ${value.type} event has no object` };
      if (value.type === 'ERROR') return statusMarker(value.object, line);
      return watchRecord(value.type, value.object, line);
    }
    if (typeof value.apiVersion === 'string' && value.apiVersion.startsWith('audit.k8s.io/')) {
      return { kind: 'problem', line, problem: 'this is a kube-apiserver audit event: import it with --format audit' };
    }
    if (typeof value.record === 'string' && 'origin' in value) {
      return { kind: 'problem', line, problem: 'this is a kreplay NDJSON record: import it with --format ndjson' };
    }
    if (value.kind === 'Status') return statusMarker(value, line);
    if (Array.isArray(value.items)) {
      // A List envelope: its items were streamed before it.
      skipped.add('List envelopes');
      return undefined;
    }
    if (typeof value.kind === 'string' && isPlainObject(value.metadata)) {
      const uid = value.metadata.uid;
      const type = typeof uid === 'string' && seenUids.has(uid) ? 'MODIFIED' : 'ADDED';
      return watchRecord(type, value, line);
    }
    return { kind: 'problem', line, problem: 'neither a watch event ({"type", "object"}) nor a Kubernetes object (kind, metadata)' };
  }

  function handle(events: ReturnType<JsonValueSplitter['push']>): ParseEvent[] {
    const out: ParseEvent[] = [];
    for (const event of events) {
      if (event.kind === 'error') {
        out.push({ kind: 'problem', line: event.line, problem: event.problem });
        continue;
      }
      const result = onValue(event.text, event.line);
      if (result) out.push(result);
    }
    return out;
  }

  return {
    push: (chunk) => handle(splitter.push(chunk)),
    end: () => handle(splitter.end()),
    skipped: () => skipped.toJSON(),
  };
}
