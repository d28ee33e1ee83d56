import { findingKindRegistry, namespacedName, type Finding, type StoredRecord } from '../model/index.js';
import type { ObjectDiff } from '../replayer/diff.js';
import { recordDetails, recordLabel, recordSubject, VersionTracker } from './describe.js';
import { APP_CSS, APP_JS } from './html-assets.js';
import type { ReportInput } from './json.js';
import type { ReportRecord } from './report-schema.js';
import { recordObject, recordTime, sortFindings } from './window.js';

/**
 * One self-contained HTML file: no network (a CSP forbids it), CSS and JS inline, the data embedded as JSON in a
 * `<script type="application/json">` that the page reads with JSON.parse. The page builds its DOM with textContent
 * and setAttribute only, so names and labels from the cluster (which can hold `<script>`) stay text.
 *
 * The data is streamed like the JSON report: header, then one compact record per chunk, then the lanes (objects
 * and watch streams) discovered on the way.
 */

/** Escapes text for HTML element content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * JSON that is safe inside a `<script>` element: `<` becomes \u003c so no `</script>` or `<!--` can end or
 * confuse the element; U+2028/2029 are escaped for old parsers. JSON.parse restores them.
 */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A diff in the page's compact form: per section, [path, kind, before, after]. */
interface HtmlDiff {
  created: boolean;
  deleted: boolean;
  hidden: number;
  sections: Record<string, [string, string, unknown, unknown][]>;
}

function compactDiff(diff: ObjectDiff): HtmlDiff {
  const sections: HtmlDiff['sections'] = {};
  for (const [name, entries] of Object.entries(diff.sections)) {
    if (entries.length) sections[name] = entries.map((e) => [e.path, e.kind, e.before ?? null, e.after ?? null]);
  }
  return { created: diff.created, deleted: diff.deleted, hidden: diff.hiddenManagedFields, sections };
}

interface Lane {
  id: number;
  stream: boolean;
  group: string;
  kind: string;
  namespace: string | null;
  name: string;
  title: string;
  uids: string[];
  count: number;
  findings: number[];
}

function styleOf(record: StoredRecord): string {
  switch (record.record) {
    case 'watch':
      if (record.type === 'BOOKMARK') return 'bookmark';
      return `w-${record.type.toLowerCase()}${record.origin === 'relist' ? ' w-relist' : ''}`;
    case 'marker':
      return record.marker === 'gone' || record.marker === 'error' || record.marker === 'dropped' || record.marker === 'gap' ? 'm-bad' : record.marker.startsWith('list') ? 'm-list' : 'm-info';
    case 'reconcile':
      return record.result === 'error' ? 'rec-err' : record.result === 'success' ? 'rec-ok' : 'rec-requeue';
    case 'reconcile-start':
      return 'rec-start';
    case 'delivery':
      return record.tombstone ? 'del del-tomb' : 'del';
    case 'api':
      return record.code >= 400 ? (record.code === 409 ? 'api-err api-conflict' : 'api-err') : 'api-ok';
  }
}

/** The record as shown in the details table: everything but object bodies (those are in the diff). */
function bare(record: ReportRecord): Record<string, unknown> {
  const { annotations: _annotations, ...rest } = record as Record<string, unknown>;
  if (rest.record === 'watch') delete rest.object;
  if (rest.record === 'api') delete rest.responseObject;
  return rest;
}

export function* htmlReport(input: ReportInput): Generator<string> {
  const { header } = input;
  const findings = sortFindings(header.findings);
  const title = `kreplay report: ${header.session.name}`;
  yield `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="kreplay ${escapeHtml(header.generator.version)}">
<title>${escapeHtml(title)}</title>
<style>${APP_CSS}</style>
</head>
<body>
<noscript><p class="noscript">This report draws its timeline with JavaScript. The data is in the element with id "kreplay-data" as JSON (schema: kreplay docs/export-schema.md).</p></noscript>
<div id="app"></div>
<script type="application/json" id="kreplay-data">{"header":${scriptSafeJson({ ...header, findings })},"records":[`;

  const evidence = new Map<number, number[]>();
  findings.forEach((finding, index) => {
    for (const seq of new Set([finding.firstSeq, finding.lastSeq, ...finding.evidence.map((e) => e.seq)])) {
      const list = evidence.get(seq) ?? [];
      list.push(index);
      evidence.set(seq, list);
    }
  });

  const lanes = new Map<string, Lane>();
  const laneOf = (key: string, make: () => Omit<Lane, 'id' | 'count' | 'findings' | 'uids'>): Lane => {
    let lane = lanes.get(key);
    if (!lane) {
      lane = { ...make(), id: lanes.size, count: 0, findings: [], uids: [] };
      lanes.set(key, lane);
    }
    lane.count += 1;
    return lane;
  };
  const versions = new VersionTracker();
  let lastTime: number | null = null;
  let first = true;
  for (const record of input.records) {
    const diff = versions.next(record);
    const object = recordObject(record);
    let lane: Lane;
    if (object) {
      lane = laneOf(`o/${object.group}/${object.kind}/${object.namespace ?? ''}/${object.name}`, () => ({
        stream: false,
        group: object.group,
        kind: object.kind,
        namespace: object.namespace ?? null,
        name: object.name,
        title: `${object.kind} ${namespacedName(object.namespace, object.name)}`,
      }));
      if (object.uid && !lane.uids.includes(object.uid)) lane.uids.push(object.uid);
    } else {
      const subject = recordSubject(record);
      lane = laneOf(`s/${subject}`, () => ({ stream: true, group: record.record === 'watch' || record.record === 'marker' ? (record.group ?? '') : '', kind: record.record === 'watch' || record.record === 'marker' ? (record.kind ?? '') : '', namespace: null, name: subject, title: subject === 'session' ? 'recorder' : `${subject} stream` }));
    }
    const time = recordTime(record);
    const ms = time ? Date.parse(time) : NaN;
    if (Number.isFinite(ms)) lastTime = ms;
    const compact: Record<string, unknown> = {
      s: record.seq,
      t: Number.isFinite(ms) ? ms : lastTime,
      k: record.record,
      o: lane.id,
      l: recordLabel(record),
      d: recordDetails(record, diff),
      c: styleOf(record),
      r: bare(record),
    };
    if (record.record === 'reconcile') compact.te = Date.parse(record.finishedAt);
    if (record.annotations?.length) compact.a = record.annotations;
    const flagged = evidence.get(record.seq);
    if (flagged) compact.f = flagged;
    if (diff) compact.x = compactDiff(diff);
    yield `${first ? '' : ','}\n${scriptSafeJson(compact)}`;
    first = false;
  }

  // Findings land on their object's lane (matched by name, as audit records may lack the uid).
  findings.forEach((finding: Finding, index) => {
    const slash = finding.object.apiVersion.indexOf('/');
    const group = slash === -1 ? '' : finding.object.apiVersion.slice(0, slash);
    const lane = lanes.get(`o/${group}/${finding.object.kind}/${finding.object.namespace ?? ''}/${finding.object.name}`);
    lane?.findings.push(index);
  });
  const kinds = Object.fromEntries(Object.values(findingKindRegistry).map((info) => [info.id, info]));
  yield `\n],"lanes":${scriptSafeJson([...lanes.values()])},"kinds":${scriptSafeJson(kinds)}}</script>
<script>${APP_JS}</script>
</body>
</html>
`;
}
