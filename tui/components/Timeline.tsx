import { Box } from 'ink';
import type { RecordAnnotation } from '../../replayer/index.js';
import { kindLabel, type Columns } from '../columns.js';
import type { FindingsIndex } from '../findings-index.js';
import { findingBadges } from '../findings-index.js';
import { clock, fit, padStart } from '../format.js';
import type { TimelineRow as Row } from '../rows.js';
import { toneColor, useTheme } from '../theme.js';
import { Line, type Segment } from './Line.js';

export interface TimelineProps {
  readonly rows: readonly Row[];
  /** Index of the cursor row in `rows`. */
  readonly cursor: number;
  readonly width: number;
  readonly height: number;
  readonly columns: Columns;
  readonly findings: FindingsIndex | undefined;
  readonly annotations: ReadonlyMap<number, readonly RecordAnnotation[]>;
  readonly writerOf: (row: Row) => string | null | undefined;
  readonly focused: boolean;
  readonly title: string;
  readonly emptyText: string;
}

/** The replayer's per-record notes worth a glance in the table (relist items are already marked by origin). */
const annotationBadges: Partial<Record<RecordAnnotation['tag'], string>> = {
  duplicate: 'dup',
  'out-of-order': 'ooo',
  unseen: 'unsn',
  tombstone: 'tomb',
  'stale-resume': 'stale',
  gap: 'gap',
  'recorder-gap': 'gap',
  resync: 'rsyn',
  redelivery: 'rdlv',
};

/** Badges that fit the column: all of them, or the first with a "+" saying there are more. */
function fitBadges(badges: readonly string[], width: number): string {
  const all = badges.join(' ');
  if (all.length <= width || badges.length <= 1) return all;
  return `${badges[0]!.slice(0, width - 1)}+`;
}

/** The record table: one row per record, the cursor row highlighted, markers standing out. */
export function Timeline(props: TimelineProps) {
  const theme = useTheme();
  const c = props.columns;
  const header: Segment[] = [
    { text: ' '.repeat(c.gutter) },
    { text: `${fit(c.time >= 12 ? 'TIME (UTC)' : 'MM:SS.ms', c.time)} ${padStart('SEQ', c.seq)} ${fit('OBJECT', c.object)} ${fit('TYPE', c.type)} ${fit('RV', c.rv)} ${fit('WRITER', c.writer)} ${fit(c.badges >= 8 ? 'FINDINGS' : 'FIND', c.badges)}${c.detail ? ` ${fit('DETAIL', c.detail)}` : ''}`, bold: true, color: theme.muted },
  ];
  const titleText = `─ ${props.title} `;
  const lines = props.rows.map((row, i) => <TimelineRowLine key={row.seq} row={row} selected={i === props.cursor} {...props} />);
  const blanks = Math.max(0, props.height - lines.length);
  return (
    <Box flexDirection="column" width={props.width} height={props.height + 2}>
      <Line width={props.width} segments={[{ text: titleText, color: props.focused ? theme.accent : theme.muted, bold: props.focused }, { text: '─'.repeat(Math.max(0, props.width - titleText.length)), color: theme.muted }]} />
      <Line width={props.width} segments={header} />
      {lines}
      {props.rows.length === 0 ? <Line width={props.width} segments={[{ text: `  ${props.emptyText}`, color: theme.muted }]} /> : null}
      {Array.from({ length: Math.max(0, blanks - (props.rows.length === 0 ? 1 : 0)) }, (_, i) => (
        <Line key={`blank-${i}`} width={props.width} segments={[]} />
      ))}
    </Box>
  );
}

function TimelineRowLine({ row, selected, width, columns: c, findings, annotations, writerOf, focused }: TimelineProps & { row: Row; selected: boolean }) {
  const theme = useTheme();
  const tone = toneColor(theme, row.tone);
  const isMarker = row.record === 'marker';
  const kinds = [...new Set((findings?.badgedAt(row.seq) ?? []).map((f) => f.kind))];
  const notes = [...new Set((annotations.get(row.seq) ?? []).map((a) => annotationBadges[a.tag]).filter((b): b is string => b !== undefined))];
  const badgeText = fitBadges([...kinds.map((k) => findingBadges[k]), ...notes], c.badges);
  const severity = findings?.worstAt(row.seq);
  const object = row.object
    ? `${kindLabel(row.object.kind, c.shortKinds)} ${row.object.namespace ? `${row.object.namespace}/` : ''}${row.object.name}`
    : isMarker
      ? `── ${row.detail || row.type} ──`
      : row.type === 'BOOKMARK'
        ? '· bookmark ·'
        : '';
  const writer = writerOf(row);
  const gutter = isMarker ? '◆' : row.tone === 'alert' ? '!' : row.tone === 'error' ? '✗' : ' ';
  const cells: Segment[] = [
    { text: `${selected ? '▶' : ' '}${gutter}`, color: selected ? undefined : tone, bold: true },
    { text: `${clock(row.time).slice(12 - c.time)} `, color: selected ? undefined : theme.muted },
    { text: `${padStart(String(row.seq), c.seq)} ` },
    { text: `${fit(object, c.object)} `, color: isMarker ? tone : undefined, bold: isMarker },
    { text: `${fit(row.type, c.type)} `, color: tone, bold: isMarker || row.tone === 'error' },
    { text: `${fit(row.resourceVersion ?? '', c.rv)} ` },
    { text: `${fit(writer === undefined ? '·' : (writer ?? ''), c.writer)} `, color: selected ? undefined : theme.muted },
    { text: fit(badgeText, c.badges), color: severity ? theme.severity[severity] : theme.muted, bold: kinds.length > 0 },
  ];
  if (c.detail) cells.push({ text: ` ${fit(isMarker ? '' : row.detail, c.detail)}`, color: theme.muted });
  if (selected) {
    // The cursor row is one style: reverse video without colours, a background with them.
    const plain = cells.map((cell) => cell.text).join('');
    return <Line width={width} segments={[{ text: plain }]} inverse={!theme.color || !focused} backgroundColor={theme.color && focused ? theme.cursorBackground : undefined} bold />;
  }
  return <Line width={width} segments={cells} />;
}
