import type { FindingObject } from './findings.js';
import type { ObjectRef, WatchEventRecord } from './records.js';

/** 'apps/v1' for group 'apps', 'v1' for the core group (apimachinery GroupVersion.String()). */
export function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** Inverse of apiVersionOf: 'apps/v1' -> { group: 'apps', version: 'v1' }, 'v1' -> { group: '', version: 'v1' }. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The workqueue key client-go uses (cache.MetaNamespaceKeyFunc): 'namespace/name', or 'name' when cluster-scoped. */
export function namespacedName(namespace: string | null | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** Names one object by type and name, independent of uid: 'apps/Deployment/default/web'. */
export function nameKey(ref: { group: string; kind: string; namespace?: string | null; name: string }): string {
  return `${ref.group}/${ref.kind}/${namespacedName(ref.namespace, ref.name)}`;
}

export function objectRefOfWatch(event: WatchEventRecord): ObjectRef | undefined {
  if (event.name === null) return undefined;
  return {
    group: event.group,
    version: event.version,
    resource: event.resource,
    kind: event.kind,
    namespace: event.namespace,
    name: event.name,
    uid: event.uid,
  };
}

export function findingObjectOf(ref: ObjectRef): FindingObject {
  return {
    apiVersion: apiVersionOf(ref.group, ref.version),
    kind: ref.kind,
    namespace: ref.namespace,
    name: ref.name,
    uid: ref.uid ?? null,
  };
}

/** A readable one-liner for messages: 'Deployment default/web'. */
export function describeObject(ref: { kind: string; namespace?: string | null; name: string }): string {
  return `${ref.kind} ${namespacedName(ref.namespace, ref.name)}`;
}
