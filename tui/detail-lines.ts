import { stringify } from 'yaml';
import { findingKindRegistry, type Finding, type KubeObject, type MarkerKind, type StoredRecord } from '../model/index.js';
import { diffSections, type ChangeAuthor, type DiffEntry, type ObjectDiff } from '../replayer/diff.js';
import type { RecordAnnotation } from '../replayer/index.js';
import { clock, fit, inlineValue, stamp, thousands, wrap } from './format.js';
import { findingBadges } from './findings-index.js';
import type { TimelineRow } from './rows.js';

/**
 * The detail pane is a list of lines (pure data, computed here), drawn and scrolled by one component. Lines that
 * name a field carry its path (so `w` can watch it); lines that name a record carry its seq (so Enter jumps).
 */
export type LineTone = 'heading' | 'added' | 'removed' | 'changed' | 'muted' | 'accent' | 'marker' | 'alert' | 'error' | 'warning' | 'info';

export interface DetailLine {
  readonly text: string;
  readonly tone?: LineTone;
  readonly bold?: boolean;
  readonly path?: string;
  readonly seq?: number;
  /** Drawn as the pane's selection when the pane is focused. */
  readonly selectable?: boolean;
}

const heading = (text: string): DetailLine => ({ text, tone: 'heading', bold: true });
const muted = (text: string): DetailLine => ({ text, tone: 'muted' });
const blank: DetailLine = { text: '' };

/** Why each marker matters to someone reading a controller's behaviour. */
export const markerExplanations: Readonly<Record<MarkerKind, string>> = {
  'list-started': 'The recorder started a LIST of this resource. Every object comes again as ADDED (origin relist), as it does for an informer after a 410: a relist is not a burst of real changes.',
  'list-finished': 'The LIST finished: the recorder now knows the full state at this resourceVersion. An informer replaces its cache here; objects it had but the list lacks reach OnDelete as DeletedFinalStateUnknown tombstones.',
  'watch-started': 'A watch started from this resourceVersion. Events after it are the server\'s change stream until the watch closes.',
  'watch-closed': 'The watch ended (the server closes watches every few minutes, or the connection broke). Changes until the next watch starts are only seen if the resume works.',
  gone: '410 Gone: the resourceVersion the watch resumed from was compacted away (etcd compaction runs every 5 minutes by default). Changes between the last event delivered and the relist are lost; the relist shows only their end state.',
  error: 'The watch or list failed with an error. Until the recorder recovers, changes are not seen.',
  'recorder-started': 'The recorder started. Anything before this is unknown to the session.',
  'recorder-stopped': 'The recorder stopped. Anything after this is unknown to the session.',
  dropped: 'The recorder dropped records (it could not keep up or a batch failed). The session is incomplete here: a finding near this marker may be an artefact of the gap.',
  gap: 'A gap in the recording: changes in this window are unknown.',
  resync: 'An informer resync: every cached object is re-delivered to UpdateFunc with the same resourceVersion. Not a change and not a duplicate.',
  imported: 'Files added to this session by kreplay import --append: the records after this marker come from them, merged by resourceVersion among themselves, after everything the session held.',
  fault: 'kreplay proxy injected this fault into what the controller saw (docs/proxy.md): what follows on this resource is the controller coping with it, not the cluster misbehaving on its own.',
};

/** The record's own facts, above the object diff for reconcile/delivery/api records and markers. */
export function recordLines(row: TimelineRow, record: StoredRecord | undefined, annotations: readonly RecordAnnotation[], width: number): DetailLine[] {
  const lines: DetailLine[] = [];
  const at = `seq ${thousands(row.seq)} · ${stamp(row.time)} · origin ${row.origin}`;
  switch (record?.record) {
    case 'marker': {
      lines.push({ text: `◆ ${record.marker}${record.code !== undefined ? ` (${record.code})` : ''}${record.kind ? ` · ${record.kind}` : record.resource ? ` · ${record.resource}` : ''}`, tone: 'marker', bold: true });
      lines.push(muted(at));
      if (record.resourceVersion) lines.push({ text: `resourceVersion ${record.resourceVersion}` });
      if (record.count !== undefined) lines.push({ text: `${record.marker === 'dropped' ? 'records lost' : 'items'}: ${thousands(record.count)}` });
      if (record.message) lines.push(...wrap(`message: ${record.message}`, width).map((text) => ({ text })));
      lines.push(blank, ...wrap(markerExplanations[record.marker], width).map((text) => ({ text, tone: 'muted' as const })));
      break;
    }
    case 'reconcile': {
      const tone = record.result === 'error' ? 'error' : undefined;
      lines.push({ text: `⟳ reconcile ${record.result}${record.errorReason ? ` · ${record.errorReason}` : ''} · ${record.controller}`, tone, bold: true });
      lines.push(muted(`${at} · took ${Date.parse(record.finishedAt) - Date.parse(record.startedAt)}ms`));
      lines.push({ text: `read resourceVersion ${record.observedResourceVersion ?? '?'}, generation ${record.observedGeneration ?? '?'}` });
      if (record.requeueAfterMs != null) lines.push({ text: `requeue after ${record.requeueAfterMs}ms` });
      if (record.errorMessage) lines.push(...wrap(`error: ${record.errorMessage}`, width).map((text) => ({ text, tone: 'error' as const })));
      break;
    }
    case 'reconcile-start':
      lines.push({ text: `⟳ reconcile started · ${record.controller}`, bold: true });
      lines.push(muted(`${at} · started ${record.startedAt}`));
      lines.push({ text: `read resourceVersion ${record.observedResourceVersion ?? '?'}, generation ${record.observedGeneration ?? '?'}` });
      break;
    case 'delivery':
      lines.push({ text: `→ ${row.type} · ${record.controller}${record.tombstone ? ' · DeletedFinalStateUnknown tombstone' : ''}`, tone: record.tombstone ? 'alert' : undefined, bold: true });
      lines.push(muted(at));
      lines.push({ text: `resourceVersion ${record.resourceVersion ?? '?'}${record.oldResourceVersion ? ` (old ${record.oldResourceVersion}${record.oldResourceVersion === record.resourceVersion ? ': a resync' : ''})` : ''}` });
      break;
    case 'api': {
      const failed = record.code >= 400;
      lines.push({ text: `⇢ ${row.type} → ${record.code}${record.reason ? ` ${record.reason}` : ''} · ${record.actor}`, tone: failed ? 'error' : undefined, bold: true });
      lines.push(muted(`${at}${record.byController ? ' · by the controller' : ''}${record.userAgent ? ` · ${record.userAgent}` : ''}`));
      lines.push({ text: `resourceVersion ${record.resourceVersionBefore ?? '?'} → ${record.resourceVersionAfter ?? '?'}${record.auditId ? ` · audit ${record.auditId}` : ''}` });
      // One request that the audit webhook and the SDK both reported (model/api-pairing.ts).
      if (record.sources) lines.push(muted(`reported by ${record.sources.join(' and ')}${record.controller ? ` · controller ${record.controller}` : ''}: one request, stored once`));
      else if (record.controller) lines.push(muted(`controller ${record.controller}`));
      if (record.message) lines.push(...wrap(`message: ${record.message}`, width).map((text) => ({ text, tone: failed ? ('error' as const) : undefined })));
      break;
    }
    default:
      break;
  }
  for (const annotation of annotations) lines.push({ text: fit(`▪ ${annotation.tag}: ${annotation.note}`, width, false), tone: 'info' });
  return lines;
}

function entryLines(entry: DiffEntry, width: number): DetailLine[] {
  const sign = entry.kind === 'added' ? '+' : entry.kind === 'removed' ? '-' : '~';
  const tone: LineTone = entry.kind === 'added' ? 'added' : entry.kind === 'removed' ? 'removed' : 'changed';
  const value =
    entry.kind === 'changed' ? `${inlineValue(entry.before, 40)} → ${inlineValue(entry.after, 40)}` : inlineValue(entry.kind === 'added' ? entry.after : entry.before, 80);
  const oneLine = `${sign} ${entry.path}  ${value}`;
  if ([...oneLine].length <= width) return [{ text: oneLine, tone, path: entry.path, selectable: true }];
  const half = Math.max(8, Math.floor((width - 8) / 2));
  const wrapped =
    entry.kind === 'changed' ? `    ${inlineValue(entry.before, half)} → ${inlineValue(entry.after, half)}` : `    ${inlineValue(entry.kind === 'added' ? entry.after : entry.before, width - 4)}`;
  return [
    { text: fit(`${sign} ${entry.path}`, width, false), tone, path: entry.path, selectable: true },
    { text: fit(wrapped, width, false), tone, path: entry.path },
  ];
}

export interface DiffContext {
  readonly row: TimelineRow;
  readonly version: { seq: number; resourceVersion: string; generation: number | null; type: string } | undefined;
  readonly previous: { seq: number; resourceVersion: string } | undefined;
  readonly diff: ObjectDiff | undefined;
  readonly author: ChangeAuthor | undefined;
  readonly showManagedFields: boolean;
}

/** The object's change at this step: who wrote it, then spec / status / metadata / other changes. */
export function diffLines(context: DiffContext, width: number): DetailLine[] {
  const { version, previous, diff, author } = context;
  if (!version || !diff) {
    return [muted(context.row.object ? 'No version of this object was seen on the watch at or before this record.' : 'This record names no object.')];
  }
  const lines: DetailLine[] = [];
  const at = version.seq === context.row.seq ? 'this record' : `as of seq ${thousands(version.seq)}`;
  lines.push({
    text: fit(`${version.type} rv ${version.resourceVersion}${version.generation !== null ? ` gen ${version.generation}` : ''} · ${at}${previous ? ` · vs seq ${thousands(previous.seq)} rv ${previous.resourceVersion}` : ' · first version seen'}`, width, false),
    tone: 'accent',
  });
  if (author) {
    lines.push({
      text: fit(`written by ${author.manager}${author.operation ? ` (${author.operation}${author.subresource ? ` ${author.subresource}` : ''})` : ''}${author.time ? ` at ${clock(author.time)}` : ''}${author.basis === 'newest-time' ? ' · newest managedFields entry' : ''}`, width, false),
      bold: true,
    });
  }
  if (diff.created && version.type !== 'DELETED') {
    lines.push(muted('First version seen: nothing to diff against. The object:'));
    return lines;
  }
  if (diff.count === 0) lines.push(muted(diff.hiddenManagedFields ? 'Only managedFields changed.' : 'No field changed (a re-delivery, a resync or a no-op write).'));
  for (const section of diffSections) {
    const entries = diff.sections[section];
    if (entries.length === 0) continue;
    lines.push(heading(`${section} · ${entries.length} change${entries.length === 1 ? '' : 's'}`));
    for (const entry of entries) lines.push(...entryLines(entry, width));
  }
  const quiet = diffSections.filter((s) => s !== 'other' && diff.sections[s].length === 0);
  if (diff.count > 0 && quiet.length) lines.push(muted(`no change in ${quiet.join(', ')}`));
  if (diff.hiddenManagedFields > 0) lines.push(muted(`managedFields: ${diff.hiddenManagedFields} change${diff.hiddenManagedFields === 1 ? '' : 's'} hidden (m shows them)`));
  return lines;
}

/** The object at this step as YAML (managedFields folded away unless asked). */
export function objectLines(object: KubeObject | null | undefined, showManagedFields: boolean, changedPaths: ReadonlySet<string>): DetailLine[] {
  if (!object) return [muted('No object body at this step.')];
  let shown: unknown = object;
  const metadata = object.metadata as Record<string, unknown> | undefined;
  const placeholder = 'kreplay-folded-managed-fields';
  let folded = '';
  if (!showManagedFields && metadata && Array.isArray(metadata.managedFields)) {
    const managers = (metadata.managedFields as Array<{ manager?: string }>).map((e) => e.manager).join(', ');
    folded = `‹${metadata.managedFields.length} entries: ${managers} — m shows them›`;
    shown = { ...object, metadata: { ...metadata, managedFields: placeholder } };
  }
  const text = stringify(shown, { lineWidth: 0, aliasDuplicateObjects: false }).replace(/"?kreplay-folded-managed-fields"?/, folded);
  // Mark the top-level-ish keys that changed in this version: a cheap, honest highlight.
  const changedKeys = new Set([...changedPaths].map((path) => /^\.([A-Za-z_$][\w$-]*)\.([A-Za-z_$][\w$-]*)/.exec(path)).filter(Boolean).map((m) => `${m![1]}.${m![2]}`));
  let top = '';
  return text.replace(/\n$/, '').split('\n').map((line) => {
    const topMatch = /^([A-Za-z_$][\w$-]*):/.exec(line);
    if (topMatch) top = topMatch[1]!;
    const second = /^ {2}([A-Za-z_$][\w$-]*):/.exec(line);
    const changed = second !== null && changedKeys.has(`${top}.${second[1]}`);
    return { text: `${changed ? '~' : ' '} ${line}`, tone: changed ? ('changed' as const) : undefined };
  });
}

/** The raw record as stored, JSON, for when the summary is not enough. */
export function rawRecordLines(record: StoredRecord | undefined, showManagedFields: boolean): DetailLine[] {
  if (!record) return [muted('No record.')];
  let shown: unknown = record;
  if (record.record === 'watch' && record.object && !showManagedFields) {
    const metadata = record.object.metadata as Record<string, unknown> | undefined;
    if (metadata?.managedFields) shown = { ...record, object: { ...record.object, metadata: { ...metadata, managedFields: '‹hidden: m shows them›' } } };
  }
  return JSON.stringify(shown, null, 2).split('\n').map((text) => ({ text }));
}

/** The object's own records around the cursor; the one at (or before) the cursor is marked. */
export function historyLines(rows: readonly TimelineRow[], cursorSeq: number, writerOf: (row: TimelineRow) => string | null, width: number): DetailLine[] {
  if (rows.length === 0) return [muted('Loading the object history…')];
  const seqWidth = String(rows[rows.length - 1]!.seq).length;
  let uid: string | null | undefined;
  const out: DetailLine[] = [];
  for (const row of rows) {
    if (row.object?.uid && uid !== undefined && uid !== null && row.object.uid !== uid) out.push({ text: `── new uid ${row.object.uid} (deleted and recreated) ──`, tone: 'alert' });
    if (row.object?.uid) uid = row.object.uid;
    const mark = row.seq === cursorSeq ? '▶' : ' ';
    const text = `${mark} ${String(row.seq).padStart(seqWidth)} ${clock(row.time)} ${fit(row.type, 18)} ${fit(row.resourceVersion ?? '', 8)} ${writerOf(row) ?? ''} ${row.detail}`;
    out.push({ text: fit(text, width, false), seq: row.seq, selectable: true, tone: row.tone === 'error' ? 'error' : row.tone === 'alert' ? 'alert' : row.tone === 'dim' ? 'muted' : undefined, bold: row.seq === cursorSeq });
  }
  return out;
}

export type FindingsStatus =
  | { readonly state: 'loading'; readonly done?: number; readonly total?: number }
  | { readonly state: 'ready' }
  | { readonly state: 'error'; readonly message: string }
  | { readonly state: 'off' };

/** The findings list; the selected one unfolds into explanation, fix and evidence. */
export function findingLines(findings: readonly Finding[], status: FindingsStatus, selected: number, evidence: number, width: number): DetailLine[] {
  if (status.state === 'loading') {
    const pct = status.total ? ` ${Math.floor((100 * (status.done ?? 0)) / status.total)}%` : '';
    return [muted(`Analysing the session…${pct}`), muted('Badges appear in the timeline when the detectors finish; keep stepping meanwhile.')];
  }
  if (status.state === 'error') return [{ text: `Analysis failed: ${status.message}`, tone: 'error' }];
  if (status.state === 'off') return [muted('Findings were not computed for this session.')];
  if (findings.length === 0) return [muted('No findings: the detectors found nothing suspicious in this session.')];
  const lines: DetailLine[] = [];
  findings.forEach((finding, index) => {
    const info = findingKindRegistry[finding.kind];
    const icon = finding.severity === 'error' ? '✖' : finding.severity === 'warning' ? '▲' : '●';
    const object = `${finding.object.kind} ${finding.object.namespace ? `${finding.object.namespace}/` : ''}${finding.object.name}`;
    const range = finding.firstSeq === finding.lastSeq ? `seq ${finding.firstSeq}` : `seq ${finding.firstSeq}–${finding.lastSeq}`;
    lines.push({
      text: fit(`${index === selected ? '▶' : ' '} ${icon} ${findingBadges[finding.kind].padEnd(5)} ${info.title} · ${object} · ${range}${finding.count > 1 ? ` ×${finding.count}` : ''}${finding.suppressed ? ' (suppressed)' : ''}`, width, false),
      tone: finding.suppressed ? 'muted' : finding.severity === 'error' ? 'error' : finding.severity === 'warning' ? 'warning' : 'info',
      bold: index === selected,
      seq: finding.evidence[0]?.seq ?? finding.firstSeq,
      selectable: true,
    });
    if (index !== selected) return;
    const indent = (text: string, tone?: LineTone, bold?: boolean) => wrap(text, width - 4).map((t) => ({ text: `    ${t}`, tone, bold }));
    lines.push(...indent(finding.message, undefined, true));
    lines.push(...indent(`Fix: ${info.fix}`, 'accent'));
    lines.push({ text: `    Evidence (Enter steps through it):`, bold: true });
    finding.evidence.forEach((item, i) => {
      lines.push({ text: fit(`    ${i === evidence ? '▸' : ' '} seq ${item.seq}${item.resourceVersion ? ` rv ${item.resourceVersion}` : ''}  ${item.note}`, width, false), seq: item.seq, tone: i === evidence ? 'accent' : undefined });
    });
    lines.push(...indent(`Why: ${info.explanation}`, 'muted'));
    lines.push(...indent(`Usual cause: ${info.pitfall}`, 'muted'));
    lines.push(...indent(`rule ${finding.rule}${finding.suppressed ? ` · suppressed: ${finding.suppressed.reason}` : ''}`, 'muted'));
  });
  return lines;
}
