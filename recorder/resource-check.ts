import { KubeHttpError, groupVersionPath, type KubeClient } from './kube-client.js';
import type { ResourceSpec } from './config.js';

/**
 * A configured resource that can never be served, found before the recorder starts, so `kreplay record` fails with
 * the config entry and a suggestion instead of waiting forever for `apps/v1/deployment` to appear.
 *
 * Waiting stays right for what may still appear: a CRD not created yet. Kubernetes' own groups get no new resources
 * at run time, so a missing one there is a mistake: the core group, groups without a dot (a CRD's group must hold
 * one: apiextensions-apiserver pkg/apis/apiextensions/validation ValidateCustomResourceDefinitionSpec), and the
 * built-in dotted groups below (`*.k8s.io` alone is not enough: Gateway API's gateway.networking.k8s.io is CRDs).
 * In a CRD's group a close name (singular, kind, a typo) is a mistake too; a name that resembles nothing served may
 * be a CRD yet to come.
 */

/** One entry of an APIResourceList (apimachinery pkg/apis/meta/v1/types.go APIResource). */
export interface ServedResource {
  readonly name: string;
  readonly singularName?: string;
  readonly kind?: string;
  readonly shortNames?: readonly string[];
}

/** Edit distance, for typos; small strings only. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/**
 * The served resource `wanted` most likely meant: the same name in another case, its singular, its kind, a short
 * name (`deploy`), or a typo. Subresources (`deployments/scale`) are never suggested. Typos are an edit distance of
 * at most 2 (and a third of the name); `strict` (a CRD's group, where another CRD may yet come: `gadgets` beside
 * `widgets`) allows one edit in names of 6 letters or more.
 */
export function suggestResource(wanted: string, served: readonly ServedResource[], typos: 'loose' | 'strict' = 'loose'): string | undefined {
  const w = wanted.toLowerCase();
  const candidates = served.filter((r) => !r.name.includes('/'));
  const exact = candidates.find(
    (r) =>
      r.name.toLowerCase() === w ||
      r.singularName?.toLowerCase() === w ||
      r.kind?.toLowerCase() === w ||
      r.shortNames?.some((s) => s.toLowerCase() === w) ||
      `${w}s` === r.name ||
      `${w}es` === r.name,
  );
  if (exact) return exact.name;
  let best: { name: string; d: number } | undefined;
  for (const r of candidates) {
    const d = distance(w, r.name);
    const close = typos === 'loose' ? d <= 2 && d <= Math.floor(r.name.length / 3) : d <= 1 && r.name.length >= 6;
    if (close && (!best || d < best.d)) best = { name: r.name, d };
  }
  return best?.name;
}

/** kube-apiserver's dotted groups (`kubectl api-versions` on v1.36, without CRDs). */
const builtinDottedGroups = new Set([
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'certificates.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'internal.apiserver.k8s.io',
  'networking.k8s.io',
  'node.k8s.io',
  'rbac.authorization.k8s.io',
  'resource.k8s.io',
  'scheduling.k8s.io',
  'storage.k8s.io',
  'storagemigration.k8s.io',
]);

/** Kubernetes' own API groups: no CRD can add a resource to them at run time. */
export function isBuiltinGroup(group: string): boolean {
  return !group.includes('.') || builtinDottedGroups.has(group);
}

function entryName(spec: ResourceSpec): string {
  return spec.group ? `${spec.group}/${spec.version}/${spec.resource}` : `${spec.version}/${spec.resource}`;
}

/**
 * Problems with the configured resources, one line each naming the entry (`resources[0] (apps/v1/deployment)`);
 * empty when every resource is served or may yet be. Discovery that fails for another reason (the API server
 * unreachable, 403) is no verdict: the watches retry it as they always do.
 */
export async function unservedResources(client: KubeClient, resources: readonly ResourceSpec[], options: { signal?: AbortSignal } = {}): Promise<string[]> {
  const lists = new Map<string, Promise<readonly ServedResource[] | 'absent' | 'unknown'>>();
  const listOf = (spec: ResourceSpec) => {
    const path = groupVersionPath(spec);
    let list = lists.get(path);
    if (!list) {
      list = client.getJson(path, { timeoutMs: 30_000, ...(options.signal ? { signal: options.signal } : {}) }).then(
        (response) => ((response.body as { resources?: ServedResource[] } | undefined)?.resources ?? []).filter((r) => typeof r?.name === 'string'),
        (error: unknown) => (error instanceof KubeHttpError && error.status === 404 ? ('absent' as const) : ('unknown' as const)),
      );
      lists.set(path, list);
    }
    return list;
  };
  const problems: string[] = [];
  for (const [index, spec] of resources.entries()) {
    const list = await listOf(spec);
    if (list === 'unknown') continue;
    const gv = spec.group ? `${spec.group}/${spec.version}` : spec.version;
    const where = `resources[${index}] (${entryName(spec)})`;
    if (list === 'absent') {
      if (isBuiltinGroup(spec.group)) problems.push(`${where}: the API server does not serve ${gv}; check the group and version (kubectl api-versions lists them)`);
      continue;
    }
    if (list.some((r) => r.name === spec.resource)) continue;
    const suggestion = suggestResource(spec.resource, list, isBuiltinGroup(spec.group) ? 'loose' : 'strict');
    if (suggestion) problems.push(`${where}: ${gv} serves no resource "${spec.resource}"; did you mean ${suggestion}?`);
    else if (isBuiltinGroup(spec.group)) {
      const names = list.map((r) => r.name).filter((n) => !n.includes('/'));
      problems.push(`${where}: ${gv} serves no resource "${spec.resource}"; it serves ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', …' : ''}`);
    }
  }
  return problems;
}
