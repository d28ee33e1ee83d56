import { Box } from 'ink';
import { bindings, type Binding } from '../keymap.js';
import { useTheme } from '../theme.js';
import { Line } from './Line.js';

const groups: readonly Binding['group'][] = ['Step', 'Jump', 'Watchpoints', 'Find', 'Panes', 'General'];

/** Every key, grouped; in two columns when the terminal is wide enough. Any key closes it. */
export function HelpOverlay({ width, height, scroll = 0 }: { width: number; height: number; scroll?: number }) {
  const theme = useTheme();
  const lines: Array<{ text: string; heading?: boolean }> = [];
  for (const group of groups) {
    lines.push({ text: group, heading: true });
    for (const binding of bindings.filter((b) => b.group === group)) lines.push({ text: `  ${binding.keys.padEnd(10)} ${binding.help}` });
  }
  const extra = [
    { text: 'Filter (&)', heading: true },
    { text: '  kind:Deployment ns:prod name:web' },
    { text: '  Kind/ns/name uid:… type:DELETED,…' },
    { text: '  origin:relist record:api,reconcile' },
    { text: '  finding:any finding:hot-loop,…' },
    { text: 'Watch (w)', heading: true },
    { text: '  .status.conditions[?type=Ready].status' },
    { text: '  .spec.ports[0].nodePort' },
    { text: '  .metadata.labels["app.kubernetes.io/name"]' },
  ];
  const all = [...lines, ...extra];
  const body = height - 1;
  const columns = all.length > body && width >= 76 ? 2 : 1;
  const perColumn = Math.ceil(all.length / columns);
  const colWidth = Math.floor((width - 2) / columns);
  const first = Math.max(0, Math.min(scroll, perColumn - body));
  const rows: Array<Array<{ text: string; heading?: boolean } | undefined>> = [];
  for (let r = first; r < Math.min(perColumn, first + body); r++) rows.push(Array.from({ length: columns }, (_, c) => all[c * perColumn + r]));
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Line width={width} segments={[{ text: ' Keys ', bold: true, inverse: true }, { text: `  ${perColumn > body ? 'j/k scroll · ' : ''}any other key closes this · q quits`, color: theme.muted }]} />
      {rows.map((cells, r) => (
        <Line
          key={r}
          width={width}
          segments={cells.flatMap((cell) => [{ text: ` ${(cell?.text ?? '').padEnd(colWidth - 1).slice(0, colWidth - 1)}`, bold: cell?.heading ?? false, color: cell?.heading ? theme.accent : undefined }])}
        />
      ))}
      {Array.from({ length: Math.max(0, height - 1 - rows.length) }, (_, i) => (
        <Line key={`b${i}`} width={width} segments={[]} />
      ))}
    </Box>
  );
}
