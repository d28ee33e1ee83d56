import type { KubeObject, StoredRecord } from '../model/index.js';
import { diffObjects, type DiffEntry } from './diff.js';

/**
 * `kreplay diff A B`: two sessions compared by object, on their end states — Sieve's convergence oracle (a
 * fault-free and a faulted run of one workload must end the same) and "what changed between the healthy and the
 * broken session" for a post-mortem.
 *
 * Objects are matched by group, kind, namespace and name (uids differ between runs); a name made from
 * metadata.generateName is matched by its prefix and the order the objects first appear in. What always differs
 * between two runs is masked before comparing: uid, resourceVersion, generation-independent timestamps (any RFC 3339
 * string value), managedFields, ownerReferences' uids, and the generated part of names. Only kinds both sessions
 * watched are compared: an object of a kind one session never saw says nothing about the other.
 */

export interface SessionDiffOptions {
  /** Extra paths to ignore, dotted from the object's root: `status.lastSyncTime`, `metadata.annotations.x`. */
  readonly masks?: readonly string[];
  /** Leave out the default masks (uid, resourceVersion, timestamps, managedFields, generated names). */
  readonly noDefaultMasks?: boolean;
  /** Session A's namespace X is session B's Y (runs in different namespaces). */
  readonly namespaceMap?: Readonly<Record<string, string>>;
}

export interface DiffObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string | null;
  /** The name, or `prefix*` (+ ordinal) for a generated name. */
  readonly name: string;
}

export interface ChangedObject {
  readonly object: DiffObjectRef;
  readonly entries: readonly DiffEntry[];
}

export interface SessionDiff {
  readonly onlyInA: readonly DiffObjectRef[];
  readonly onlyInB: readonly DiffObjectRef[];
  readonly changed: readonly ChangedObject[];
  readonly equal: number;
  /** Kinds only one session holds (`group/Kind`), not compared. */
  readonly notCompared: { readonly a: readonly string[]; readonly b: readonly string[] };
  readonly same: boolean;
}

const MASKED = '<masked>';
const timestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

interface EndState {
  readonly ref: DiffObjectRef;
  readonly kindKey: string;
  readonly object: KubeObject | null;
  readonly live: boolean;
}

/** The last state of every object a session's watch records show, keyed for matching across sessions. */
export function endStates(records: Iterable<StoredRecord>, namespaceMap: Readonly<Record<string, string>> = {}): { states: Map<string, EndState>; kinds: Set<string> } {
  const byUid = new Map<string, { key: string; state: EndState }>();
  const generatedCount = new Map<string, number>();
  const kinds = new Set<string>();
  /** Per resource being (re)listed: the uids listed so far. What a finished list lacks is gone (DeltaFIFO.Replace). */
  const listing = new Map<string, { namespace: string | null; listed: Set<string> }>();
  const resourceOf = new Map<string, string>();
  for (const record of records) {
    if (record.record === 'marker') {
      const key = `${record.group ?? ''}/${record.resource ?? ''}`;
      const startsListing = record.marker === 'list-started' || (record.marker === 'watch-started' && !record.resourceVersion);
      if (record.resource && startsListing) listing.set(key, { namespace: record.namespace ?? null, listed: new Set() });
      if (record.resource && record.marker === 'list-finished') {
        const done = listing.get(key);
        listing.delete(key);
        if (!done) continue;
        for (const [uid, entry] of byUid) {
          if (resourceOf.get(uid) !== key || done.listed.has(uid) || !entry.state.live) continue;
          if (done.namespace !== null && entry.state.ref.namespace !== (namespaceMap[done.namespace] ?? done.namespace)) continue;
          entry.state = { ...entry.state, object: null, live: false };
        }
      }
      continue;
    }
    if (record.record !== 'watch' || record.type === 'BOOKMARK' || !record.uid || !record.name) continue;
    const resourceKey = `${record.group}/${record.resource}`;
    resourceOf.set(record.uid, resourceKey);
    listing.get(resourceKey)?.listed.add(record.uid);
    const kindKey = `${record.group}/${record.kind}`;
    kinds.add(kindKey);
    const namespace = record.namespace === null ? null : (namespaceMap[record.namespace] ?? record.namespace);
    let entry = byUid.get(record.uid);
    if (!entry) {
      const generateName = (record.object?.metadata as { generateName?: unknown } | undefined)?.generateName;
      let name = record.name;
      if (typeof generateName === 'string' && generateName && record.name.startsWith(generateName)) {
        const counter = `${kindKey}|${namespace ?? ''}|${generateName}`;
        const n = (generatedCount.get(counter) ?? 0) + 1;
        generatedCount.set(counter, n);
        name = `${generateName}*${n > 1 ? `#${n}` : ''}`;
      }
      const apiVersion = record.group ? `${record.group}/${record.version}` : record.version;
      const ref: DiffObjectRef = { apiVersion, kind: record.kind, namespace, name };
      entry = { key: `${kindKey}|${namespace ?? ''}|${name}`, state: { ref, kindKey, object: null, live: false } };
      byUid.set(record.uid, entry);
    }
    const live = record.type !== 'DELETED';
    entry.state = { ...entry.state, object: live ? (record.object ?? entry.state.object) : null, live };
  }
  const states = new Map<string, EndState>();
  for (const { key, state } of byUid.values()) {
    // An object deleted and re-created under one name: the newest incarnation is its end state.
    const existing = states.get(key);
    if (!existing || state.live || !existing.live) states.set(key, state);
  }
  return { states, kinds };
}

/** The object with what always differs between runs replaced by a marker (or removed, for managedFields). */
export function maskObject(object: KubeObject, options: SessionDiffOptions = {}, namespaceMap: Readonly<Record<string, string>> = {}): KubeObject {
  let copy = structuredClone(object) as Record<string, unknown>;
  if (!options.noDefaultMasks) {
    const meta = (copy.metadata ?? {}) as Record<string, unknown>;
    for (const key of ['uid', 'resourceVersion', 'managedFields', 'selfLink']) delete meta[key];
    if (typeof meta.generateName === 'string' && typeof meta.name === 'string') meta.name = `${meta.generateName}*`;
    if (typeof meta.namespace === 'string' && namespaceMap[meta.namespace]) meta.namespace = namespaceMap[meta.namespace];
    if (Array.isArray(meta.ownerReferences)) for (const owner of meta.ownerReferences as Record<string, unknown>[]) if (owner && typeof owner === 'object') delete owner.uid;
    copy = maskTimestamps(copy) as Record<string, unknown>;
  }
  for (const path of options.masks ?? []) copy = maskPath(copy, path.split('.').filter(Boolean));
  return copy as KubeObject;
}

function maskTimestamps(value: unknown): unknown {
  if (typeof value === 'string') return timestamp.test(value) ? MASKED : value;
  if (Array.isArray(value)) return value.map(maskTimestamps);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskTimestamps(v)]));
  return value;
}

function maskPath(node: Record<string, unknown>, parts: readonly string[]): Record<string, unknown> {
  const [head, ...rest] = parts;
  if (head === undefined || !(head in node)) return node;
  if (rest.length === 0) return { ...node, [head]: MASKED };
  const child = node[head];
  if (!child || typeof child !== 'object' || Array.isArray(child)) return node;
  return { ...node, [head]: maskPath(child as Record<string, unknown>, rest) };
}

export function diffSessions(a: Iterable<StoredRecord>, b: Iterable<StoredRecord>, options: SessionDiffOptions = {}): SessionDiff {
  const left = endStates(a, options.namespaceMap ?? {});
  const right = endStates(b);
  const shared = new Set([...left.kinds].filter((k) => right.kinds.has(k)));
  const onlyInA: DiffObjectRef[] = [];
  const onlyInB: DiffObjectRef[] = [];
  const changed: ChangedObject[] = [];
  let equal = 0;
  const keys = [...new Set([...left.states.keys(), ...right.states.keys()])].sort();
  for (const key of keys) {
    const x = left.states.get(key);
    const y = right.states.get(key);
    if (!shared.has((x ?? y)!.kindKey)) continue;
    const xLive = x?.live === true;
    const yLive = y?.live === true;
    if (!xLive && !yLive) continue; // gone (or never there) in both: the same end
    if (xLive && !yLive) {
      onlyInA.push(x.ref);
      continue;
    }
    if (!xLive && yLive) {
      onlyInB.push(y.ref);
      continue;
    }
    const diff = diffObjects(maskObject(x!.object ?? {}, options, options.namespaceMap), maskObject(y!.object ?? {}, options));
    const entries = [...diff.sections.spec, ...diff.sections.status, ...diff.sections.metadata, ...diff.sections.other];
    if (entries.length) changed.push({ object: x!.ref, entries });
    else equal += 1;
  }
  return {
    onlyInA,
    onlyInB,
    changed,
    equal,
    notCompared: { a: [...left.kinds].filter((k) => !shared.has(k)).sort(), b: [...right.kinds].filter((k) => !shared.has(k)).sort() },
    same: onlyInA.length === 0 && onlyInB.length === 0 && changed.length === 0,
  };
}
