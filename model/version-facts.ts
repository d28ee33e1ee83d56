import { z } from 'zod';
import { suppressAnnotation } from './check-config.js';
import type { KubeObject } from './records.js';

/**
 * What the replayer needs to know about one version of an object without reading its body: the store computes these
 * facts once, when the version is appended, and keeps them beside it, so `kreplay check` over a long session decodes
 * bodies only where a detector looks inside one (a hot loop's changing paths, a finalizer's owners). Records that
 * come without facts (tests, NDJSON read directly, sessions written before schema 4) get the same facts computed
 * by the fold from their bodies with the same functions: both paths give the same answer.
 */

export const OwnerRef = z.object({ apiVersion: z.string(), kind: z.string(), name: z.string() });
export type OwnerRef = z.infer<typeof OwnerRef>;

/** The part of a version's facts that stays the same over many versions; the store keeps each distinct value once. */
export const SharedVersionFacts = z.object({
  /** The field manager that wrote this version (managedFields); null when the object has none. */
  writer: z.string().nullable(),
  deletionTimestamp: z.string().nullable(),
  finalizers: z.array(z.string()),
  /** The `kreplay.dev/suppress` annotation. */
  suppress: z.string().nullable(),
  /** The ownerReference with controller: true. */
  owner: OwnerRef.nullable(),
  /** The version's own time (newest managedFields time, else deletion or creation): only kept when the record has no observedAt. */
  time: z.number().nullable(),
});
export type SharedVersionFacts = z.infer<typeof SharedVersionFacts>;

export interface VersionFacts extends SharedVersionFacts {
  readonly observedGeneration: number | null;
  /** The writer's managedFields entry is for the status subresource. */
  readonly statusWrite: boolean;
  /** Whether `.status` differs from the previous version of the object; null when there was none. */
  readonly statusChanged: boolean | null;
  /** A 32-bit fingerprint of `.spec` (0 when the object has no spec). */
  readonly specHash: number;
  /** The object holds a leader-election record (isLeaderElectionRecord); undefined in rows stored before it was kept. */
  readonly leaderRecord: boolean | undefined;
}

type Json = Record<string, unknown>;

function record(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

export function metadataOf(object: KubeObject | null | undefined): Json | undefined {
  return record(object?.metadata);
}

export function generationOf(object: KubeObject | null | undefined): number | null {
  const g = metadataOf(object)?.generation;
  return typeof g === 'number' ? g : null;
}

/** status.observedGeneration, the convention controllers use to say which spec their status describes. */
export function observedGenerationOf(object: KubeObject | null | undefined): number | null {
  const g = record((object as Json | null | undefined)?.status)?.observedGeneration;
  return typeof g === 'number' ? g : null;
}

export function finalizersOf(object: KubeObject | null | undefined): readonly string[] {
  const f = metadataOf(object)?.finalizers;
  return Array.isArray(f) ? (f.filter((x) => typeof x === 'string') as string[]) : [];
}

export function deletionTimestampOf(object: KubeObject | null | undefined): string | null {
  const d = metadataOf(object)?.deletionTimestamp;
  return typeof d === 'string' ? d : null;
}

/**
 * client-go's legacy ConfigMap and Endpoints resource locks keep the leader-election record as JSON in this
 * annotation (tools/leaderelection/resourcelock/interface.go LeaderElectionRecordAnnotationKey); a Lease keeps it in
 * its spec.
 */
export const leaderAnnotation = 'control-plane.alpha.kubernetes.io/leader';

/** A leader-election record, recognised by content (any name): the annotation holds {"holderIdentity": ...}. */
export function isLeaderElectionRecord(object: KubeObject | null | undefined): boolean {
  const record = annotationOf(object, leaderAnnotation);
  if (record === undefined) return false;
  try {
    const parsed = JSON.parse(record) as unknown;
    return typeof parsed === 'object' && parsed !== null && 'holderIdentity' in parsed;
  } catch {
    return false;
  }
}

export function annotationOf(object: KubeObject | null | undefined, key: string): string | undefined {
  const value = record(metadataOf(object)?.annotations)?.[key];
  return typeof value === 'string' ? value : undefined;
}

/** The ownerReference with controller: true: whose workqueue a change of this object is enqueued to. */
export function controllerOwnerOf(object: KubeObject | null | undefined): OwnerRef | null {
  const refs = metadataOf(object)?.ownerReferences;
  if (!Array.isArray(refs)) return null;
  for (const ref of refs) {
    const r = record(ref);
    if (r && r.controller === true && typeof r.kind === 'string' && typeof r.name === 'string') {
      return { apiVersion: typeof r.apiVersion === 'string' ? r.apiVersion : '', kind: r.kind, name: r.name };
    }
  }
  return null;
}

/** A version's raw managedFields list, kept to attribute the next version to its writer. */
export type ManagerTimes = readonly unknown[];

export function managedFieldsListOf(object: KubeObject | null | undefined): ManagerTimes {
  const list = metadataOf(object)?.managedFields;
  return Array.isArray(list) ? list : noEntries;
}

export interface Attribution {
  /** The field manager that wrote this version, when managedFields tell; null otherwise. */
  writer: string | null;
  /** True when the writer's entry is for the status subresource. */
  statusWrite: boolean;
  times: ManagerTimes;
  /** The writer's managedFields entry: 'Update' or 'Apply', the subresource, its time. */
  operation?: string;
  subresource?: string;
  time?: string;
  /** How it was decided: the entry that is new or moved since the previous version, or (fallback) the newest. */
  basis: 'changed-entry' | 'newest-time';
}

const noEntries: readonly unknown[] = [];

function sameEntry(a: Json, b: Json): boolean {
  return a.manager === b.manager && a.operation === b.operation && (a.subresource ?? '') === (b.subresource ?? '');
}

/**
 * Who wrote this version: the managedFields entry that is new or whose time moved since the previous version
 * (the API server stamps the writer's entry on every write that changes its fields; apiserver
 * pkg/endpoints/handlers/fieldmanager). When none moved (two writes in the same second), the entry with the newest
 * time is the best guess. Runs on every version, so it allocates nothing but the result.
 */
export function attributeWriter(previous: ManagerTimes | null, object: KubeObject | null | undefined): Attribution {
  const list = metadataOf(object)?.managedFields;
  if (!Array.isArray(list) || list.length === 0) return { writer: null, statusWrite: false, times: noEntries, basis: 'newest-time' };
  let changed: Json | null = null;
  let newest: Json | null = null;
  for (const item of list) {
    const entry = record(item);
    if (!entry || typeof entry.manager !== 'string') continue;
    const time = typeof entry.time === 'string' ? entry.time : '';
    if (!newest || time > ((newest.time as string | undefined) ?? '')) newest = entry;
    if (previous && previous !== list) {
      let moved = true;
      for (const old of previous) {
        const o = record(old);
        if (o && sameEntry(o, entry)) {
          moved = o.time !== entry.time;
          break;
        }
      }
      if (moved && (!changed || time > ((changed.time as string | undefined) ?? ''))) changed = entry;
    }
  }
  const writer = changed ?? newest;
  const attribution: Attribution = { writer: (writer?.manager as string | undefined) ?? null, statusWrite: writer?.subresource === 'status', times: list, basis: changed ? 'changed-entry' : 'newest-time' };
  if (typeof writer?.operation === 'string') attribution.operation = writer.operation;
  if (typeof writer?.subresource === 'string' && writer.subresource) attribution.subresource = writer.subresource;
  if (typeof writer?.time === 'string') attribution.time = writer.time;
  return attribution;
}

/**
 * The best time a version of an object can tell about itself when its record has no observedAt: the newest
 * managedFields entry (the server stamps the writer's entry on every write that changes its fields, see
 * apimachinery pkg/apis/meta/v1/types.go ManagedFieldsEntry.Time), else its deletion or creation timestamp.
 * Second precision only: good enough for minute-scale thresholds, not for ordering.
 */
export function objectTime(object: KubeObject | null | undefined): number | null {
  const metadata = metadataOf(object);
  if (!metadata) return null;
  let best: number | null = null;
  const managedFields = metadata.managedFields;
  if (Array.isArray(managedFields)) {
    for (const entry of managedFields) {
      const t = parseTimestamp((entry as { time?: string } | null)?.time);
      if (t !== null && (best === null || t > best)) best = t;
    }
  }
  if (best !== null) return best;
  // A graceful deletion's deletionTimestamp is the request time plus the grace period (apiserver
  // pkg/registry/rest/delete.go BeforeDelete): the request time is what the object can tell.
  const deletion = parseTimestamp(metadata.deletionTimestamp);
  const grace = typeof metadata.deletionGracePeriodSeconds === 'number' ? metadata.deletionGracePeriodSeconds : 0;
  return (deletion === null ? null : deletion - Math.max(0, grace) * 1000) ?? parseTimestamp(metadata.creationTimestamp);
}

function parseTimestamp(text: unknown): number | null {
  if (typeof text !== 'string' || !text) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * A 53-bit hash of a string (cyrb53, public domain): fingerprints are kept per object, so they are numbers, not
 * copies of the JSON.
 */
export function hashString(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A cheap identity of a subtree for "did it change" questions (key order as the server wrote it). */
export function fingerprint(value: unknown): number {
  return value === undefined ? 0 : hashString(JSON.stringify(value));
}

/** The spec's fingerprint as a signed 32-bit integer: small in SQLite, and collisions within one object are negligible. */
export function specHashOf(object: KubeObject | null | undefined): number {
  const spec = (object as Json | null | undefined)?.spec;
  return spec === undefined ? 0 : fingerprint(spec) | 0;
}

export function specOf(object: KubeObject | null | undefined): unknown {
  return (object as Json | null | undefined)?.spec;
}

export function statusOf(object: KubeObject | null | undefined): unknown {
  return (object as Json | null | undefined)?.status;
}

/** What changed between two versions, as far as the facts care; the store gets it from the patch it computes anyway. */
export interface VersionChange {
  specChanged: boolean;
  statusChanged: boolean;
}

/** The same answer as a patch's paths would give, by comparing the two versions' subtrees (for callers without a patch). */
export function versionChangeOf(previous: KubeObject, next: KubeObject): VersionChange {
  const changed = (a: unknown, b: unknown) => a !== b && fingerprint(a) !== fingerprint(b);
  return { specChanged: changed(specOf(previous), specOf(next)), statusChanged: changed(statusOf(previous), statusOf(next)) };
}

/**
 * The facts of `next`. `previous` is the previous version of the same object with its facts (null for the first
 * one, or one that arrives late: an older resourceVersion after a newer one); `change` says what differs from it.
 * `withTime` keeps the version's own time (for records without observedAt).
 */
export function versionFacts(
  previous: { object: KubeObject; facts: VersionFacts } | null,
  next: KubeObject,
  change: VersionChange | null,
  withTime: boolean,
): VersionFacts {
  const attribution = attributeWriter(previous ? managedFieldsListOf(previous.object) : null, next);
  const specHash = previous && change && !change.specChanged ? previous.facts.specHash : specHashOf(next);
  return {
    writer: attribution.writer,
    statusWrite: attribution.statusWrite,
    observedGeneration: observedGenerationOf(next),
    deletionTimestamp: deletionTimestampOf(next),
    finalizers: [...finalizersOf(next)],
    suppress: annotationOf(next, suppressAnnotation) ?? null,
    owner: controllerOwnerOf(next),
    time: withTime ? objectTime(next) : null,
    leaderRecord: isLeaderElectionRecord(next),
    statusChanged: previous && change ? change.statusChanged : null,
    specHash,
  };
}

/** The JSON the store keeps once per distinct value (keys in a fixed order, so equal facts give equal text). */
export function sharedFactsText(facts: SharedVersionFacts): string {
  return JSON.stringify([facts.writer, facts.deletionTimestamp, facts.finalizers, facts.suppress, facts.owner, facts.time]);
}

const SharedFactsTuple = z.tuple([
  SharedVersionFacts.shape.writer,
  SharedVersionFacts.shape.deletionTimestamp,
  SharedVersionFacts.shape.finalizers,
  SharedVersionFacts.shape.suppress,
  SharedVersionFacts.shape.owner,
  SharedVersionFacts.shape.time,
]);

/** Reads sharedFactsText back; a damaged value throws with the zod issue. */
export function parseSharedFacts(text: string): SharedVersionFacts {
  const [writer, deletionTimestamp, finalizers, suppress, owner, time] = SharedFactsTuple.parse(JSON.parse(text));
  return { writer, deletionTimestamp, finalizers, suppress, owner, time };
}
