import { Text } from 'ink';
import { terminalText } from '../../model/index.js';

/** One styled run of text inside a line. */
export interface Segment {
  readonly text: string;
  readonly color?: string | undefined;
  readonly backgroundColor?: string | undefined;
  readonly bold?: boolean;
  readonly dim?: boolean;
  readonly inverse?: boolean;
  readonly underline?: boolean;
}

/**
 * Exactly one terminal row: segments cut to `width` and padded, so nothing ever wraps (a wrapped row would shift
 * every row below it for one frame: the flicker this avoids).
 */
export function Line({ segments, width, inverse, backgroundColor, bold }: { segments: readonly Segment[]; width: number; inverse?: boolean; backgroundColor?: string | undefined; bold?: boolean }) {
  const out: Segment[] = [];
  let left = Math.max(0, width);
  for (const raw of segments) {
    if (left <= 0) break;
    // Every row of the TUI is drawn here: the one place cluster text is made safe for the terminal.
    const segment = { ...raw, text: terminalText(raw.text) };
    const chars = [...segment.text];
    if (chars.length <= left) {
      out.push(segment);
      left -= chars.length;
    } else {
      out.push({ ...segment, text: left > 1 ? `${chars.slice(0, left - 1).join('')}…` : '…' });
      left = 0;
    }
  }
  if (left > 0) out.push({ text: ' '.repeat(left) });
  return (
    <Text wrap="truncate" inverse={inverse} backgroundColor={backgroundColor} bold={bold}>
      {out.map((segment, i) => (
        <Text key={i} color={segment.color} backgroundColor={segment.backgroundColor} bold={segment.bold} dimColor={segment.dim} inverse={segment.inverse} underline={segment.underline}>
          {segment.text}
        </Text>
      ))}
    </Text>
  );
}
