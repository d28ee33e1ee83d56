import { Box } from 'ink';
import type { DetailLine } from '../detail-lines.js';
import { toneColor, useTheme } from '../theme.js';
import { Line, type Segment } from './Line.js';

export const detailViews = ['diff', 'object', 'history', 'findings', 'record'] as const;
export type DetailView = (typeof detailViews)[number];

const labels: Record<DetailView, string> = { diff: 'Diff', object: 'Object', history: 'History', findings: 'Findings', record: 'Record' };

export interface DetailPaneProps {
  readonly view: DetailView;
  readonly width: number;
  readonly height: number;
  /** What the pane is about, shown on its title line: "Deployment team-3/web-0003". */
  readonly subject: string;
  readonly lines: readonly DetailLine[];
  /** First line shown. */
  readonly scroll: number;
  /** Index in `lines` of the highlighted line, or -1. */
  readonly selected: number;
  readonly focused: boolean;
  readonly findingsCount: number | undefined;
  /** Sticky lines above the content (the watchpoint's last hit). */
  readonly banner?: readonly DetailLine[] | undefined;
}

/** Tabs on the title row, then a scrolling list of lines. */
export function DetailPane(props: DetailPaneProps) {
  const theme = useTheme();
  const tabs: Segment[] = [{ text: '─ ', color: theme.muted }];
  detailViews.forEach((view, i) => {
    const active = view === props.view;
    const label = `${i + 1} ${labels[view]}${view === 'findings' && props.findingsCount ? ` (${props.findingsCount})` : ''}`;
    tabs.push({ text: ` ${label} `, bold: active, inverse: active, color: active ? (props.focused ? theme.accent : undefined) : theme.muted });
    tabs.push({ text: ' ' });
  });
  const used = tabs.reduce((n, s) => n + [...s.text].length, 0);
  const subject = props.subject ? ` ${props.subject} ` : '';
  const fill = Math.max(0, props.width - used - [...subject].length);
  tabs.push({ text: '─'.repeat(fill), color: theme.muted }, { text: subject, bold: true });

  const banner = props.banner ?? [];
  const bodyHeight = Math.max(0, props.height - 1 - banner.length);
  const visible = props.lines.slice(props.scroll, props.scroll + bodyHeight);
  const more = props.lines.length - props.scroll - bodyHeight;
  return (
    <Box flexDirection="column" width={props.width} height={props.height}>
      <Line width={props.width} segments={tabs} />
      {banner.map((line, i) => (
        <Line key={`banner-${i}`} width={props.width} segments={[{ text: ` ${line.text}`, color: toneColor(theme, line.tone), bold: true }]} />
      ))}
      {visible.map((line, i) => {
        const index = props.scroll + i;
        const isSelected = index === props.selected && props.focused;
        const isLast = i === visible.length - 1 && more > 0;
        const text = isLast ? `${line.text.padEnd(Math.max(0, props.width - 12))}`.slice(0, Math.max(0, props.width - 12)) + ` ↓ ${more} more` : line.text;
        return (
          <Line
            key={index}
            width={props.width}
            inverse={isSelected}
            segments={[{ text: ` ${text}`, color: isSelected ? undefined : toneColor(theme, line.tone), bold: line.bold ?? false }]}
          />
        );
      })}
      {Array.from({ length: Math.max(0, bodyHeight - visible.length) }, (_, i) => (
        <Line key={`blank-${i}`} width={props.width} segments={[]} />
      ))}
    </Box>
  );
}
