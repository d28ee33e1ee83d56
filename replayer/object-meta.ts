import type { KubeObject } from '../model/index.js';

/** Read-only accessors for the few parts of an object the detectors need. Objects stay as the server sent them. */

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

export function annotationOf(object: KubeObject | null | undefined, key: string): string | undefined {
  const value = record(metadataOf(object)?.annotations)?.[key];
  return typeof value === 'string' ? value : undefined;
}

export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
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

export interface ManagedEntry {
  manager: string;
  operation: string;
  subresource: string;
  time: string | null;
  fieldsV1: unknown;
}

export function managedFieldsOf(object: KubeObject | null | undefined): ManagedEntry[] {
  const list = metadataOf(object)?.managedFields;
  if (!Array.isArray(list)) return [];
  const out: ManagedEntry[] = [];
  for (const item of list) {
    const e = record(item);
    if (!e || typeof e.manager !== 'string') continue;
    out.push({
      manager: e.manager,
      operation: typeof e.operation === 'string' ? e.operation : '',
      subresource: typeof e.subresource === 'string' ? e.subresource : '',
      time: typeof e.time === 'string' ? e.time : null,
      fieldsV1: e.fieldsV1,
    });
  }
  return out;
}

/** The previous version's raw managedFields list, kept per object to attribute the next version to its writer. */
export type ManagerTimes = readonly unknown[];

export interface Attribution {
  /** The field manager that wrote this version, when managedFields tell; null otherwise. */
  writer: string | null;
  /** True when the writer's entry is for the status subresource. */
  statusWrite: boolean;
  times: ManagerTimes;
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
  if (!Array.isArray(list) || list.length === 0) return { writer: null, statusWrite: false, times: noEntries };
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
  return { writer: (writer?.manager as string | undefined) ?? null, statusWrite: writer?.subresource === 'status', times: list };
}

/** Managers that own fields through the status subresource: the object's controller(s), by convention. */
export function statusManagersOf(object: KubeObject | null | undefined): Set<string> {
  const out = new Set<string>();
  for (const entry of managedFieldsOf(object)) if (entry.subresource === 'status') out.add(entry.manager);
  return out;
}

/**
 * The managers that own each finalizer: in fieldsV1 a set member is keyed `v:<JSON value>` under `f:finalizers`
 * (structured-merge-diff fieldpath/serialize.go), so `{"f:metadata":{"f:finalizers":{"v:\"x\"":{}}}}` owns "x".
 */
export function finalizerOwnersOf(object: KubeObject | null | undefined): Map<string, string[]> {
  const owners = new Map<string, string[]>();
  for (const entry of managedFieldsOf(object)) {
    const finalizers = record(record(record(entry.fieldsV1)?.['f:metadata'])?.['f:finalizers']);
    if (!finalizers) continue;
    for (const key of Object.keys(finalizers)) {
      if (!key.startsWith('v:')) continue;
      let value: unknown;
      try {
        value = JSON.parse(key.slice(2));
      } catch {
        continue;
      }
      if (typeof value !== 'string') continue;
      const list = owners.get(value) ?? [];
      if (!list.includes(entry.manager)) list.push(entry.manager);
      owners.set(value, list);
    }
  }
  return owners;
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

export function specOf(object: KubeObject | null | undefined): unknown {
  return (object as Json | null | undefined)?.spec;
}

export function statusOf(object: KubeObject | null | undefined): unknown {
  return (object as Json | null | undefined)?.status;
}
