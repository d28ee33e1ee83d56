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

/**
 * Names one object by type and name, independent of uid: 'apps/deployment/default/web'. The kind is compared without
 * case: an audit log at level Metadata names a custom resource only by its plural, so its kind is a guess from the
 * plural ('webapps' → 'Webapp') until a body says 'WebApp'; within one group two kinds never differ only in case (each
 * has its own plural resource name, and CRD plurals are unique per group).
 */
export function nameKey(ref: { group: string; kind: string; namespace?: string | null; name: string }): string {
  return `${ref.group}/${ref.kind.toLowerCase()}/${namespacedName(ref.namespace, ref.name)}`;
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

/**
 * How many objects a session names: the one definition `kreplay sessions`, `show`, `check` and the exports count by.
 * An object is a uid, as the API server means it: a name deleted and created again is two objects, and a relist
 * names the same uids again. A reference without a uid (an audit record at Metadata level, an SDK report) is the
 * object of its name when some uid of that name is known in the session, else one object per name (a 404 loop on a
 * name that never existed still names something). A request on a collection (name `*`) names no object.
 */
export class ObjectTally {
  private readonly uids = new Set<string>();
  private readonly namesWithUid = new Set<string>();
  private readonly namesWithoutUid = new Set<string>();

  add(ref: { group: string; kind: string; namespace?: string | null; name: string | null; uid?: string | null }): void {
    if (!ref.name || ref.name === '*') return;
    if (ref.uid) {
      // Most records name a uid already counted: one Set lookup, no key built.
      if (this.uids.has(ref.uid)) return;
      this.uids.add(ref.uid);
      this.namesWithUid.add(nameKey({ ...ref, name: ref.name }));
    } else this.namesWithoutUid.add(nameKey({ ...ref, name: ref.name }));
  }

  get count(): number {
    let count = this.uids.size;
    for (const name of this.namesWithoutUid) if (!this.namesWithUid.has(name)) count += 1;
    return count;
  }
}

/** The object tally of a list of object references (the store's object rows, a test's records). */
export function countObjects(refs: Iterable<{ group: string; kind: string; namespace?: string | null; name: string | null; uid?: string | null }>): number {
  const tally = new ObjectTally();
  for (const ref of refs) tally.add(ref);
  return tally.count;
}
