import { findingKindRegistry, namespacedName, terminalText, type Finding } from '../model/index.js';
import { clock, dayOf, formatMs, recordDetails, recordLabel, recordSubject, VersionTracker } from './describe.js';
import type { ReportInput } from './json.js';
import { describeSelector, objectKey, recordObject, recordTime, sortFindings } from './window.js';

/**
 * A readable incident timeline in GitHub-flavoured Markdown: summary, findings with their evidence, then one
 * timeline per object (objects with findings first) and one for the watch streams (relists, 410s, restarts).
 *
 * Everything that came from the cluster goes through `md()`: object names, labels and messages may hold Markdown
 * or HTML, and the file is meant to be pasted into incident tools that render both.
 */

export interface MarkdownOptions {
  /** Lines per object timeline before the middle is elided (evidence rows are always kept). */
  readonly maxRowsPerObject?: number;
}

/** Escapes text for a Markdown table cell or paragraph: no HTML, no emphasis, no links, no cell breaks. */
export function md(text: string): string {
  // Then terminalText: a report is also read with `cat` and piped into `gh`, where a raw escape sequence would act.
  return terminalText(
    text
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/([\\`*_[\]|#~!])/g, '\\$1')
      .replace(/\r?\n/g, ' '),
  );
}

const severityBadge: Record<string, string> = { error: '🔴 error', warning: '🟠 warning', info: '🔵 info' };

interface Row {
  seq: number;
  text: string;
  evidence: boolean;
}

/** One object's rows: a head, a tail ring and the evidence rows in between, so memory stays bounded. */
class ObjectRows {
  private readonly head: Row[] = [];
  private readonly tail: Row[] = [];
  private tailStart = 0;
  private readonly middle: Row[] = [];
  private omitted = 0;
  total = 0;
  constructor(
    readonly title: string,
    readonly uid: string | null,
    readonly firstSeq: number,
    readonly hasFinding: boolean,
    private readonly cap: number,
  ) {}

  add(row: Row): void {
    this.total += 1;
    const half = Math.max(1, Math.floor(this.cap / 2));
    if (this.head.length < half) this.head.push(row);
    else if (this.tail.length < half) this.tail.push(row);
    else {
      // The ring is full: its oldest row leaves it, and is kept only when it is evidence for a finding.
      const evicted = this.tail[this.tailStart]!;
      this.tail[this.tailStart] = row;
      this.tailStart = (this.tailStart + 1) % half;
      if (evicted.evidence) this.middle.push(evicted);
      else this.omitted += 1;
    }
  }

  lines(): string[] {
    const tail = [...this.tail.slice(this.tailStart), ...this.tail.slice(0, this.tailStart)];
    const out = this.head.map((r) => r.text);
    if (this.omitted > 0) out.push(`| … | | ${this.omitted} records omitted${this.middle.length ? ' (evidence rows kept)' : ''} | |`);
    out.push(...this.middle.map((r) => r.text), ...tail.map((r) => r.text));
    return out;
  }
}

export function* markdownReport(input: ReportInput, options: MarkdownOptions = {}): Generator<string> {
  const { header } = input;
  const { session, summary, window } = header;
  const findings = sortFindings(header.findings);
  const day = dayOf(summary.firstObservedAt ?? session.startedAt);

  const lines: string[] = [];
  lines.push(`# kreplay report: ${md(session.name)}`, '');
  lines.push('| | |', '| --- | --- |');
  lines.push(`| Session | ${md(session.name)} (id ${session.id}, ${md(session.source)}) |`);
  if (session.cluster || session.context) lines.push(`| Cluster | ${md(session.cluster ?? '?')}${session.context && session.context !== session.cluster ? ` (context ${md(session.context)})` : ''} |`);
  const spanMs = summary.firstObservedAt && summary.lastObservedAt ? Date.parse(summary.lastObservedAt) - Date.parse(summary.firstObservedAt) : NaN;
  lines.push(`| Span | ${summary.firstObservedAt ?? '—'} → ${summary.lastObservedAt ?? '—'}${Number.isFinite(spanMs) ? ` (${formatMs(spanMs)})` : ''} |`);
  const byKind = Object.entries(summary.recordsByKind).map(([kind, n]) => `${n} ${kind}`).join(', ');
  lines.push(`| Records | ${summary.records}${byKind ? ` (${byKind})` : ''}${summary.firstSeq !== null ? `, seq ${summary.firstSeq}–${summary.lastSeq}` : ''} |`);
  lines.push(`| Objects | ${summary.objects} |`);
  if (window.cut) {
    const parts = [window.from ? `from ${md(window.from)}` : '', window.to ? `to ${md(window.to)}` : '', window.objects.length ? `objects ${window.objects.map((o) => md(describeSelector(o))).join(', ')}` : ''].filter(Boolean);
    lines.push(`| Window | ${parts.join(', ')} |`);
  }
  const severities = (['error', 'warning', 'info'] as const).filter((s) => summary.findingsBySeverity[s]).map((s) => `${summary.findingsBySeverity[s]} ${s}`);
  lines.push(`| Findings | ${summary.findings}${severities.length ? ` (${severities.join(', ')})` : ''}${summary.suppressedFindings ? `, ${summary.suppressedFindings} suppressed` : ''} |`);
  if (header.controller) {
    const names = header.controller.names.map(md).join(', ');
    lines.push(`| Controller under debug | ${header.controller.basis === 'unknown' ? 'none identified' : `${names}${header.controller.basis === 'inferred' ? ' (inferred)' : ''}`} |`);
  }
  const unevaluated = Object.entries(header.coverage ?? {}).filter(([, c]) => c.status === 'not-evaluated');
  const partly = Object.entries(header.coverage ?? {}).filter(([, c]) => c.status === 'partly');
  if (unevaluated.length) lines.push(`| Not evaluated | ${unevaluated.map(([kind, c]) => `\`${kind}\` (${md(c.missing.join('; '))})`).join(', ')} |`);
  if (partly.length) lines.push(`| Partly evaluated | ${partly.map(([kind]) => `\`${kind}\``).join(', ')} |`);
  lines.push(`| Generated | ${header.generatedAt} by kreplay ${md(header.generator.version)} |`, '');
  if (session.partial) {
    lines.push(`> **Partial session.** Records were lost while recording or importing, so this is not the whole story:`);
    for (const problem of session.problems.slice(0, 5)) lines.push(`> - ${md(problem)}`);
    lines.push('');
  }
  yield `${lines.join('\n')}\n`;
  lines.length = 0;

  // ---- findings ------------------------------------------------------------------------------------------------
  const evidenceSeqs = new Map<number, Finding[]>();
  for (const finding of findings) {
    for (const seq of new Set([finding.firstSeq, finding.lastSeq, ...finding.evidence.map((e) => e.seq)])) {
      const list = evidenceSeqs.get(seq) ?? [];
      list.push(finding);
      evidenceSeqs.set(seq, list);
    }
  }
  lines.push('## Findings', '');
  if (findings.length === 0) {
    lines.push('No findings: every detector ran and none fired in this window.', '');
  } else {
    lines.push('| # | Severity | Finding | Object | Seqs | Count |', '| --- | --- | --- | --- | --- | --- |');
    findings.forEach((f, i) => {
      const info = findingKindRegistry[f.kind];
      lines.push(`| ${i + 1} | ${severityBadge[f.severity]} | ${md(info.title)} (\`${f.kind}\`)${f.suppressed ? ' — suppressed' : ''} | ${md(`${f.object.kind} ${namespacedName(f.object.namespace, f.object.name)}`)} | ${f.firstSeq}–${f.lastSeq} | ${f.count} |`);
    });
    lines.push('');
    findings.forEach((f, i) => {
      const info = findingKindRegistry[f.kind];
      lines.push(`### ${i + 1}. ${md(info.title)}: ${md(`${f.object.kind} ${namespacedName(f.object.namespace, f.object.name)}`)}`, '');
      lines.push(`${severityBadge[f.severity]} · \`${f.kind}\` · rule \`${md(f.rule)}\` · seq ${f.firstSeq}–${f.lastSeq}${f.count > 1 ? ` · ${f.count} occurrences` : ''}${f.resourceVersions.length ? ` · resourceVersions ${f.resourceVersions.map(md).join(', ')}` : ''}`, '');
      if (f.suppressed) lines.push(`> Suppressed: ${md(f.suppressed.reason)}`, '');
      lines.push(md(f.message), '');
      lines.push(`**Why it matters.** ${md(info.explanation)}`, '');
      lines.push(`**Usual cause.** ${md(info.pitfall)}`, '');
      lines.push(`**Fix.** ${md(info.fix)}`, '');
      if (f.evidence.length) {
        lines.push('| Seq | resourceVersion | Evidence |', '| --- | --- | --- |');
        for (const e of f.evidence) lines.push(`| ${e.seq} | ${e.resourceVersion ? md(e.resourceVersion) : '—'} | ${md(e.note)} |`);
        lines.push('');
      }
    });
  }
  yield `${lines.join('\n')}\n`;
  lines.length = 0;

  // ---- timelines -----------------------------------------------------------------------------------------------
  const cap = options.maxRowsPerObject ?? 400;
  const objects = new Map<string, ObjectRows>();
  const streams: Row[] = [];
  let streamsOmitted = 0;
  let bookmarks = 0;
  const versions = new VersionTracker();
  const findingObjects = new Set(findings.map((f) => `${f.object.kind}/${f.object.namespace ?? ''}/${f.object.name}`));
  for (const record of input.records) {
    const diff = versions.next(record);
    const flagged = evidenceSeqs.get(record.seq);
    const flag = flagged ? ` **⚑ ${[...new Set(flagged.map((f) => f.kind))].join(', ')}**` : '';
    const notes = record.annotations?.length ? ` _(${record.annotations.map((a) => md(a.tag)).join(', ')})_` : '';
    const cells = `${clock(recordTime(record), day)} | ${record.seq} | ${md(recordLabel(record))} | ${md(recordDetails(record, diff))}${notes}${flag} |`;
    const object = recordObject(record);
    if (!object) {
      if (record.record === 'watch' && record.type === 'BOOKMARK') {
        bookmarks += 1;
        continue;
      }
      if (streams.length < cap * 4 || flagged) streams.push({ seq: record.seq, text: `| ${md(recordSubject(record))} | ${cells}`, evidence: Boolean(flagged) });
      else streamsOmitted += 1;
      continue;
    }
    const key = objectKey(object);
    let rows = objects.get(key);
    if (!rows) {
      const hasFinding = findingObjects.has(`${object.kind}/${object.namespace ?? ''}/${object.name}`);
      rows = new ObjectRows(`${object.kind} ${namespacedName(object.namespace, object.name)}`, object.uid, record.seq, hasFinding, cap);
      objects.set(key, rows);
    }
    rows.add({ seq: record.seq, text: `| ${cells}`, evidence: Boolean(flagged) });
  }

  lines.push('## Timeline', '');
  lines.push(`Times are UTC${day ? ` on ${day}` : ''}. ⚑ marks records that are evidence for a finding.`, '');
  if (streams.length || bookmarks) {
    lines.push('### Watch streams and recorder', '');
    if (bookmarks) lines.push(`${bookmarks} bookmark${bookmarks === 1 ? '' : 's'} not shown.`, '');
    if (streams.length) {
      lines.push('| Stream | Time | Seq | Event | Details |', '| --- | --- | --- | --- | --- |');
      for (const row of streams) lines.push(row.text);
      if (streamsOmitted) lines.push(`| … | | | ${streamsOmitted} more | |`);
      lines.push('');
    }
  }
  yield `${lines.join('\n')}\n`;
  lines.length = 0;

  // Objects with findings first, then the rest by kind, namespace and name (uid and first seq break ties).
  const sorted = [...objects.values()].sort((a, b) => Number(b.hasFinding) - Number(a.hasFinding) || (a.title < b.title ? -1 : a.title > b.title ? 1 : 0) || a.firstSeq - b.firstSeq);
  for (const rows of sorted) {
    lines.push(`### ${md(rows.title)}`, '');
    lines.push(`${rows.uid ? `uid \`${md(rows.uid)}\` · ` : 'no uid (from audit or reports only) · '}${rows.total} record${rows.total === 1 ? '' : 's'}`, '');
    lines.push('| Time | Seq | Record | Details |', '| --- | --- | --- | --- |');
    lines.push(...rows.lines());
    lines.push('');
    yield `${lines.join('\n')}\n`;
    lines.length = 0;
  }
}
