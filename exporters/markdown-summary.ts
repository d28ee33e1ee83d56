import { findingKindRegistry, namespacedName, type Finding } from '../model/index.js';
import { clock, dayOf, recordDetails, recordLabel, recordSubject, VersionTracker } from './describe.js';
import type { ReportInput } from './json.js';
import { markdownReport, md } from './markdown.js';
import { recordObject, recordTime, sortFindings } from './window.js';

/**
 * A Markdown report that fits a ticket comment: the full report's header, every finding with its top evidence, and
 * a timeline cut to the records that are evidence (and the watch streams' events), all within a byte budget.
 * GitHub refuses a comment longer than 65,536 characters; the budget counts UTF-8 bytes, never fewer than
 * characters, so a summary within it fits whatever the tool counts.
 */

export interface MarkdownSummaryOptions {
  /** UTF-8 bytes at most (default 60,000: room for a sentence of your own in a 65,536-character comment). */
  readonly maxBytes?: number;
  /** Evidence rows shown per finding (default 5). */
  readonly evidencePerFinding?: number;
  /** The command that gives the full report, named in the omission notes. */
  readonly fullReportHint?: string;
}

export const MARKDOWN_SUMMARY_MAX_BYTES = 60_000;

const severityBadge: Record<string, string> = { error: '🔴 error', warning: '🟠 warning', info: '🔵 info' };

/** UTF-8 length without Buffer (exporters are pure): 1 byte to U+007F, 2 to U+07FF, 4 for a surrogate pair, else 3. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      bytes += 4;
      i += 1;
    } else bytes += 3;
  }
  return bytes;
}

/** Lines added while they fit; what does not fit is counted, and the caller says so in a line it reserved room for. */
class Budget {
  private used = 0;
  readonly lines: string[] = [];
  constructor(private readonly max: number) {}
  /** Adds the lines if all of them fit (a table row and its note stay together). */
  add(...lines: string[]): boolean {
    const bytes = lines.reduce((n, line) => n + utf8Length(line) + 1, 0);
    if (this.used + bytes > this.max) return false;
    this.used += bytes;
    this.lines.push(...lines);
    return true;
  }
  get remaining(): number {
    return this.max - this.used;
  }
}

/** Room kept for each omission note: notes are short and hold only numbers and the hint. */
const NOTE_RESERVE = 400;

export function* markdownSummary(input: ReportInput, options: MarkdownSummaryOptions = {}): Generator<string> {
  const { header } = input;
  const maxBytes = options.maxBytes ?? MARKDOWN_SUMMARY_MAX_BYTES;
  const perFinding = options.evidencePerFinding ?? 5;
  const hint = options.fullReportHint ? ` Full report: \`${options.fullReportHint}\`.` : '';
  const findings = sortFindings(header.findings);
  // Three notes at most (findings, evidence, timeline) are added past the budget's end: keep room for them.
  const budget = new Budget(maxBytes - 3 * NOTE_RESERVE);
  const note = (text: string) => {
    let cut = text;
    while (utf8Length(cut) > NOTE_RESERVE - 4) cut = cut.slice(0, -10);
    budget.lines.push(cut === text ? text : `${cut}…`);
  };

  // ---- header: the full report's, so both say the same -------------------------------------------------------
  const headerText = markdownReport({ header, records: [] }).next().value ?? '';
  const headerLines = headerText.replace(/\n$/, '').split('\n');
  headerLines[0] = `${headerLines[0]} (summary)`;
  for (const line of headerLines) if (!budget.add(line)) break;

  // ---- findings ------------------------------------------------------------------------------------------------
  budget.add('## Findings', '');
  if (findings.length === 0) budget.add('No findings: every detector ran and none fired in this window.', '');
  else {
    budget.add('| # | Severity | Finding | Object | Seqs | Count |', '| --- | --- | --- | --- | --- | --- |');
    let shown = 0;
    for (const [i, f] of findings.entries()) {
      const info = findingKindRegistry[f.kind];
      const row = `| ${i + 1} | ${severityBadge[f.severity]} | ${md(info.title)} (\`${f.kind}\`)${f.suppressed ? ' — suppressed' : ''} | ${md(`${f.object.kind} ${namespacedName(f.object.namespace, f.object.name)}`)} | ${f.firstSeq}–${f.lastSeq} | ${f.count} |`;
      if (!budget.add(row)) break;
      shown += 1;
    }
    if (shown < findings.length) note(`| … | | ${findings.length - shown} more findings not listed.${hint} | | | |`);
    budget.add('');

    // Details in the same order, each with its top evidence, while they fit: the first findings are the worst.
    let detailed = 0;
    for (const [i, f] of findings.entries()) {
      if (budget.remaining < NOTE_RESERVE) break;
      if (!budget.add(...findingDetail(f, i, perFinding))) break;
      detailed += 1;
    }
    if (detailed < findings.length) note(`_${findings.length - detailed} of ${findings.length} findings are listed above without details.${hint}_`);
    budget.add('');
  }

  // ---- timeline: evidence records and stream events, in seq order ------------------------------------------------
  const evidence = new Map<number, Set<string>>();
  for (const f of findings) {
    for (const seq of [f.firstSeq, f.lastSeq, ...f.evidence.map((e) => e.seq)]) {
      const kinds = evidence.get(seq) ?? new Set<string>();
      kinds.add(f.kind);
      evidence.set(seq, kinds);
    }
  }
  const day = dayOf(header.summary.firstObservedAt ?? header.session.startedAt);
  budget.add('## Timeline (cut)', '', `Times are UTC${day ? ` on ${day}` : ''}. Only records that are evidence for a finding, and the watch streams' events.`, '');
  budget.add('| Time | Seq | Object | Record | Details |', '| --- | --- | --- | --- | --- |');
  const versions = new VersionTracker();
  let shownRows = 0;
  let omitted = 0;
  let full = false;
  for (const record of input.records) {
    const diff = versions.next(record);
    const kinds = evidence.get(record.seq);
    const streamEvent = !recordObject(record) && !(record.record === 'watch' && record.type === 'BOOKMARK');
    if (!kinds && !streamEvent) {
      omitted += 1;
      continue;
    }
    const flag = kinds ? ` **⚑ ${[...kinds].join(', ')}**` : '';
    const row = `| ${clock(recordTime(record), day)} | ${record.seq} | ${md(recordSubject(record))} | ${md(recordLabel(record))} | ${md(recordDetails(record, diff))}${flag} |`;
    if (full || budget.remaining < NOTE_RESERVE || !budget.add(row)) {
      full = true;
      omitted += 1;
      continue;
    }
    shownRows += 1;
  }
  if (shownRows === 0 && omitted === 0) budget.add('| | | | (no records in this window) | |');
  if (omitted > 0) note(`| … | | | | ${omitted} more records not shown.${hint} |`);
  yield `${budget.lines.join('\n')}\n`;
}

function findingDetail(f: Finding, index: number, perFinding: number): string[] {
  const info = findingKindRegistry[f.kind];
  const lines = [
    `### ${index + 1}. ${md(info.title)}: ${md(`${f.object.kind} ${namespacedName(f.object.namespace, f.object.name)}`)}`,
    '',
    `${severityBadge[f.severity]} · \`${f.kind}\` · rule \`${md(f.rule)}\` · seq ${f.firstSeq}–${f.lastSeq}${f.count > 1 ? ` · ${f.count} occurrences` : ''}`,
    '',
  ];
  if (f.suppressed) lines.push(`> Suppressed: ${md(f.suppressed.reason)}`, '');
  lines.push(md(truncate(f.message, 600)), '', `**Fix.** ${md(truncate(info.fix, 400))}`, '');
  if (f.evidence.length) {
    lines.push('| Seq | resourceVersion | Evidence |', '| --- | --- | --- |');
    for (const e of f.evidence.slice(0, perFinding)) lines.push(`| ${e.seq} | ${e.resourceVersion ? md(e.resourceVersion) : '—'} | ${md(truncate(e.note, 300))} |`);
    if (f.evidence.length > perFinding) lines.push(`| … | | ${f.evidence.length - perFinding} more evidence rows |`);
    lines.push('');
  }
  return lines;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
