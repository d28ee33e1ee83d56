import type { Severity } from '../../model/index.js';
import type { FindingsStatus } from '../detail-lines.js';
import { stamp, thousands } from '../format.js';
import { useTheme } from '../theme.js';
import { Line, type Segment } from './Line.js';

export interface HeaderProps {
  readonly width: number;
  readonly sessionName: string;
  readonly partial: boolean;
  readonly seq: number | undefined;
  readonly index: number | undefined;
  readonly total: number | undefined;
  readonly time: string | null;
  readonly filtered: boolean;
  readonly findings: FindingsStatus;
  readonly counts: Readonly<Record<Severity, number>> | undefined;
  readonly watch: string | undefined;
  /** `replay --follow`: following the tail ('head'), or left where the user put the cursor ('paused'). */
  readonly live?: 'head' | 'paused' | undefined;
}

/** The position line: where the cursor is (seq, n of total, time), and what the session holds. */
export function Header(props: HeaderProps) {
  const theme = useTheme();
  const segments: Segment[] = [{ text: ' kreplay ', bold: true, color: theme.accent, inverse: !theme.color }, { text: ` ${props.sessionName}`, bold: true }];
  if (props.partial) segments.push({ text: ' PARTIAL', color: theme.alert, bold: true });
  if (props.live === 'head') segments.push({ text: ' ● LIVE', color: theme.added, bold: true });
  else if (props.live === 'paused') segments.push({ text: ' LIVE (T: follow)', color: theme.muted });
  const bar = { text: ' │ ', color: theme.muted };
  segments.push(bar);
  if (props.seq === undefined) {
    segments.push({ text: props.filtered ? 'no record matches the filter' : 'empty session', color: theme.muted });
  } else {
    segments.push({ text: `seq ${thousands(props.seq)}`, bold: true });
    const of = props.total === undefined ? '' : `/${thousands(props.total)}`;
    const n = props.index === undefined ? '…' : thousands(props.index + 1);
    segments.push({ text: ` · ${n}${of}${props.filtered ? ' filtered' : ''}`, color: props.filtered ? theme.changed : undefined });
    segments.push({ text: ` · ${stamp(props.time)}` });
  }
  segments.push(bar);
  if (props.findings.state === 'loading') {
    const pct = props.findings.total ? ` ${Math.floor((100 * (props.findings.done ?? 0)) / props.findings.total)}%` : '';
    segments.push({ text: `analysing…${pct}`, color: theme.muted });
  } else if (props.findings.state === 'error') {
    segments.push({ text: 'analysis failed', color: theme.error });
  } else if (props.counts) {
    const { error, warning, info } = props.counts;
    if (error + warning + info === 0) segments.push({ text: 'no findings', color: theme.added });
    const parts: Segment[] = [];
    if (error) parts.push({ text: `✖ ${error}`, color: theme.severity.error, bold: true });
    if (warning) parts.push({ text: `▲ ${warning}`, color: theme.severity.warning, bold: true });
    if (info) parts.push({ text: `● ${info}`, color: theme.severity.info });
    parts.forEach((part, i) => segments.push(...(i ? [{ text: ' ' }] : []), part));
  }
  if (props.watch) segments.push(bar, { text: `◉ ${props.watch}`, color: theme.accent, bold: true });
  return <Line segments={segments} width={props.width} />;
}
