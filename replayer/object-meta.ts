import type { KubeObject } from '../model/index.js';
import { metadataOf } from '../model/version-facts.js';

/**
 * Read-only accessors for the few parts of an object the detectors need. Objects stay as the server sent them.
 * The accessors the store also uses to compute a version's facts live in model/version-facts.ts.
 */
export {
  annotationOf,
  attributeWriter,
  controllerOwnerOf,
  deletionTimestampOf,
  finalizersOf,
  fingerprint,
  generationOf,
  hashString,
  metadataOf,
  observedGenerationOf,
  specOf,
  statusOf,
  type Attribution,
  type ManagerTimes,
  type OwnerRef,
} from '../model/version-facts.js';

type Json = Record<string, unknown>;

function record(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
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

