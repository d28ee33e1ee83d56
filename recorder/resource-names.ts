import { KubeHttpError, type KubeClient } from './kube-client.js';
import { suggestResource, type ServedResource } from './resource-check.js';

/**
 * kubectl's resource names on `kreplay record`: `deployments`, `deploy`, `deployment`, `Deployment`,
 * `deployments.apps`, `deployments.v1.apps`, `foos.samplecontroller.k8s.io`, `cm`, resolved through discovery as
 * kubectl does (k8s.io/apimachinery pkg/api/meta/restmapper.go and cli-runtime's shortcut expander): the plural, the
 * singular, a short name or the kind, in the group named after the first dot (with or without its version), else in
 * every group, the API server's group order deciding (core first: /apis lists groups by priority). A name that
 * matches nothing fails before anything is recorded, with the closest served name (resource-check.ts).
 */

/** A served resource with the fields resolution needs. */
export interface CatalogResource extends ServedResource {
  readonly namespaced?: boolean;
  readonly verbs?: readonly string[];
}

/** One group at its preferred version, as discovery serves it; `group` is '' for the core group. */
export interface CatalogGroup {
  readonly group: string;
  readonly version: string;
  readonly resources: readonly CatalogResource[];
}

export interface ResolvedResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export type Resolution = { ok: true; resource: ResolvedResource } | { ok: false; message: string };

const label = (group: string) => (group === '' ? 'the core group' : group);
const qualified = (r: { resource: string; group: string }) => (r.group ? `${r.resource}.${r.group}` : r.resource);

function matches(wanted: string, r: CatalogResource): boolean {
  if (r.name.includes('/')) return false;
  const w = wanted.toLowerCase();
  return r.name === w || r.singularName === w || r.shortNames?.includes(w) === true || r.kind?.toLowerCase() === w;
}

function find(wanted: string, groups: readonly CatalogGroup[]): ResolvedResource | undefined {
  for (const g of groups) {
    const r = g.resources.find((candidate) => matches(wanted, candidate));
    if (r) return { group: g.group, version: g.version, resource: r.name, kind: r.kind ?? r.name, namespaced: r.namespaced === true };
  }
  return undefined;
}

/** Resolves one command-line name against the catalog (pure). */
export function resolveResourceName(arg: string, catalog: readonly CatalogGroup[]): Resolution {
  const text = arg.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(text)) return { ok: false, message: `"${arg}" is not a resource name (kubectl's: deployments, deploy, deployments.apps, foos.samplecontroller.k8s.io)` };
  const dot = text.indexOf('.');
  if (dot > 0) {
    const name = text.slice(0, dot);
    const rest = text.slice(dot + 1);
    // resource.group, then resource.version.group (kubectl tries both the same way).
    const inGroup = catalog.filter((g) => g.group === rest);
    const second = rest.indexOf('.');
    const versioned = second > 0 ? { version: rest.slice(0, second), group: rest.slice(second + 1) } : undefined;
    const found = find(name, inGroup);
    if (found) return { ok: true, resource: found };
    if (versioned && catalog.some((g) => g.group === versioned.group)) {
      const served = catalog.filter((g) => g.group === versioned.group);
      const hit = find(name, served);
      if (hit) return { ok: true, resource: { ...hit, version: versioned.version } };
    }
    const group = inGroup.length ? rest : versioned && catalog.some((g) => g.group === versioned.group) ? versioned.group : undefined;
    if (group !== undefined) {
      const served = catalog.filter((g) => g.group === group).flatMap((g) => g.resources);
      const suggestion = suggestResource(name, served);
      return { ok: false, message: `${label(group)} serves no resource "${name}"${suggestion ? `; did you mean ${qualified({ resource: suggestion, group })}?` : ''}` };
    }
    // No such group: perhaps a bare name with a dot in it is meant; else say what is close.
    const suggestion = closest(name, catalog);
    return { ok: false, message: `the API server serves no group "${rest}" (for "${arg}")${suggestion ? `; did you mean ${suggestion}?` : '; kubectl api-resources lists what it serves'}` };
  }
  const found = find(text, catalog);
  if (found) return { ok: true, resource: found };
  const suggestion = closest(text, catalog);
  return { ok: false, message: `the API server serves no resource "${arg}"${suggestion ? `; did you mean ${suggestion}?` : '; kubectl api-resources lists what it serves'}` };
}

/** The closest served name in any group, qualified with its group. */
function closest(wanted: string, catalog: readonly CatalogGroup[]): string | undefined {
  for (const g of catalog) {
    const suggestion = suggestResource(wanted, g.resources);
    if (suggestion) return qualified({ resource: suggestion, group: g.group });
  }
  return undefined;
}

interface ApiGroupList {
  groups?: { name?: string; preferredVersion?: { version?: string }; versions?: { version?: string }[] }[];
}

/**
 * Discovery at the preferred version of every group (or of `groups` only): GET /api/v1, /apis, then
 * /apis/<group>/<version> for each. A group whose list fails (an aggregated API that is down answers 503) is left
 * out, as kubectl leaves it out with a warning.
 */
export async function fetchCatalog(client: KubeClient, options: { groups?: ReadonlySet<string>; signal?: AbortSignal } = {}): Promise<CatalogGroup[]> {
  const request = { timeoutMs: 30_000, ...(options.signal ? { signal: options.signal } : {}) };
  const list = async (path: string): Promise<CatalogResource[] | undefined> => {
    try {
      const response = await client.getJson(path, request);
      if (response.status < 200 || response.status >= 300) return undefined;
      return ((response.body as { resources?: CatalogResource[] } | undefined)?.resources ?? []).filter((r) => typeof r?.name === 'string');
    } catch (error) {
      if (error instanceof KubeHttpError && error.status !== 0) return undefined;
      throw error;
    }
  };
  const wanted = (group: string) => options.groups === undefined || options.groups.has(group);
  const core = wanted('') ? list('/api/v1') : Promise.resolve(undefined);
  const response = await client.getJson('/apis', request);
  const groups = ((response.body as ApiGroupList | undefined)?.groups ?? []).flatMap((g) => {
    const version = g.preferredVersion?.version ?? g.versions?.[0]?.version;
    return typeof g.name === 'string' && version && wanted(g.name) ? [{ group: g.name, version }] : [];
  });
  const lists = await Promise.all(groups.map((g) => list(`/apis/${g.group}/${g.version}`)));
  const catalog: CatalogGroup[] = [];
  const coreResources = await core;
  if (coreResources) catalog.push({ group: '', version: 'v1', resources: coreResources });
  groups.forEach((g, i) => {
    const resources = lists[i];
    if (resources) catalog.push({ ...g, resources });
  });
  return catalog;
}
