import { findingKinds, origins, recordKinds, type FindingKind, type Origin, type RecordKind } from '../model/index.js';

/**
 * What the timeline shows. Object fields, record kinds, types and origins are answered by the store's indexes;
 * finding kinds are a set of seqs the data source holds (findings are computed, not stored).
 *
 * The text form is what the user types after `&` (less's "show only matching lines"):
 *
 *   kind:Deployment ns:prod name:web type:MODIFIED,DELETED origin:relist record:watch,api finding:hot-loop
 *
 * Also `Kind/ns/name` (or `Kind/name`) as one word, `uid:…`, and `finding:any` for every record with a finding.
 */
export interface ViewFilter {
  readonly records?: readonly RecordKind[];
  readonly objectKind?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly uid?: string;
  readonly types?: readonly string[];
  readonly origins?: readonly Origin[];
  /** 'any' = every record that is evidence of some finding. */
  readonly findings?: readonly (FindingKind | 'any')[];
}

export const emptyFilter: ViewFilter = {};

export function isEmptyFilter(filter: ViewFilter): boolean {
  return Object.values(filter).every((value) => value === undefined || (Array.isArray(value) && value.length === 0));
}

export type FilterParse = { ok: true; filter: ViewFilter } | { ok: false; error: string };

const keyAliases: Record<string, keyof ViewFilter> = {
  kind: 'objectKind',
  k: 'objectKind',
  namespace: 'namespace',
  ns: 'namespace',
  n: 'namespace',
  name: 'name',
  uid: 'uid',
  type: 'types',
  t: 'types',
  verb: 'types',
  result: 'types',
  marker: 'types',
  origin: 'origins',
  o: 'origins',
  record: 'records',
  r: 'records',
  finding: 'findings',
  f: 'findings',
};

/** Parses the filter prompt. Unknown keys and values are errors that name the accepted ones. */
export function parseFilter(text: string): FilterParse {
  const filter: { -readonly [K in keyof ViewFilter]: ViewFilter[K] } = {};
  for (const word of text.trim().split(/\s+/).filter(Boolean)) {
    const colon = word.indexOf(':');
    if (colon === -1) {
      const parts = word.split('/');
      if (parts.length === 3) [filter.objectKind, filter.namespace, filter.name] = parts as [string, string, string];
      else if (parts.length === 2) [filter.objectKind, filter.name] = parts as [string, string];
      else return { ok: false, error: `"${word}": write key:value (kind, ns, name, type, origin, record, finding, uid) or Kind/ns/name` };
      continue;
    }
    const rawKey = word.slice(0, colon).toLowerCase();
    const value = word.slice(colon + 1);
    const key = keyAliases[rawKey];
    if (!key) return { ok: false, error: `unknown filter key "${rawKey}": use kind, ns, name, uid, type, origin, record or finding` };
    if (value === '') return { ok: false, error: `"${word}" has no value` };
    const list = value.split(',').filter(Boolean);
    switch (key) {
      case 'records': {
        const bad = list.filter((v) => !(recordKinds as readonly string[]).includes(v));
        if (bad.length) return { ok: false, error: `unknown record kind ${bad.join(', ')}: use ${recordKinds.join(', ')}` };
        filter.records = list as RecordKind[];
        break;
      }
      case 'origins': {
        const bad = list.filter((v) => !(origins as readonly string[]).includes(v));
        if (bad.length) return { ok: false, error: `unknown origin ${bad.join(', ')}: use ${origins.join(', ')}` };
        filter.origins = list as Origin[];
        break;
      }
      case 'findings': {
        const bad = list.filter((v) => v !== 'any' && !(findingKinds as readonly string[]).includes(v));
        if (bad.length) return { ok: false, error: `unknown finding kind ${bad.join(', ')}: use any, ${findingKinds.join(', ')}` };
        filter.findings = list as (FindingKind | 'any')[];
        break;
      }
      case 'types':
        // Event types and verbs are written as kubectl prints them; markers and results in lower case.
        filter.types = list.map((v) => (/^(added|modified|deleted|bookmark)$/i.test(v) ? v.toUpperCase() : v));
        break;
      default:
        filter[key] = value;
    }
  }
  return { ok: true, filter };
}

/** The canonical text form, for the header and to prefill the prompt. */
export function formatFilter(filter: ViewFilter): string {
  const parts: string[] = [];
  if (filter.objectKind) parts.push(`kind:${filter.objectKind}`);
  if (filter.namespace !== undefined) parts.push(`ns:${filter.namespace}`);
  if (filter.name !== undefined) parts.push(`name:${filter.name}`);
  if (filter.uid !== undefined) parts.push(`uid:${filter.uid}`);
  if (filter.records?.length) parts.push(`record:${filter.records.join(',')}`);
  if (filter.types?.length) parts.push(`type:${filter.types.join(',')}`);
  if (filter.origins?.length) parts.push(`origin:${filter.origins.join(',')}`);
  if (filter.findings?.length) parts.push(`finding:${filter.findings.join(',')}`);
  return parts.join(' ');
}

/** The store-answerable part of a filter, in the store's RecordFilter shape. */
export interface StoreFilter {
  kinds?: readonly RecordKind[];
  objectKind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  types?: readonly string[];
  origins?: readonly string[];
}

export function storeFilterOf(filter: ViewFilter): StoreFilter | undefined {
  const out: StoreFilter = {};
  if (filter.records?.length) out.kinds = filter.records;
  if (filter.objectKind !== undefined) out.objectKind = filter.objectKind;
  if (filter.namespace !== undefined) out.namespace = filter.namespace;
  if (filter.name !== undefined) out.name = filter.name;
  if (filter.uid !== undefined) out.uid = filter.uid;
  if (filter.types?.length) out.types = filter.types;
  if (filter.origins?.length) out.origins = filter.origins;
  return Object.keys(out).length ? out : undefined;
}

/** A stable key for caching per filter. */
export function filterKey(filter: ViewFilter): string {
  return formatFilter(filter);
}
