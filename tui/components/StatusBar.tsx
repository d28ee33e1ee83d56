import { hints } from '../keymap.js';
import { useTheme } from '../theme.js';
import { Line, type Segment } from './Line.js';

export type PromptKind = 'search' | 'filter' | 'goto' | 'watch';

export interface PromptState {
  readonly kind: PromptKind;
  readonly text: string;
  readonly error?: string | undefined;
}

export interface StatusMessage {
  readonly text: string;
  readonly tone: 'info' | 'ok' | 'warn' | 'error';
}

export interface BusyState {
  readonly label: string;
  readonly done?: number;
  readonly total?: number;
}

const promptLabels: Record<PromptKind, string> = { search: '/', filter: 'filter & ', goto: 'go to : ', watch: 'watch field: ' };

/** The last row: a prompt while typing, else a running task, else the last message, else the key hints. */
export function StatusBar({ width, prompt, busy, message }: { width: number; prompt: PromptState | null; busy: BusyState | null; message: StatusMessage | null }) {
  const theme = useTheme();
  let segments: Segment[];
  if (prompt) {
    segments = [{ text: promptLabels[prompt.kind], bold: true, color: theme.accent }, { text: prompt.text }, { text: '█', color: theme.accent }];
    if (prompt.error) segments.push({ text: `  ${prompt.error}`, color: theme.error });
    else segments.push({ text: '  Enter: apply  Esc: cancel', color: theme.muted });
  } else if (busy) {
    const pct = busy.total ? ` ${Math.floor((100 * (busy.done ?? 0)) / busy.total)}%` : busy.done !== undefined ? ` ${busy.done}` : '';
    segments = [{ text: `⧗ ${busy.label}…${pct}`, color: theme.changed, bold: true }, { text: '  Esc: stop', color: theme.muted }];
  } else if (message) {
    const color = message.tone === 'error' ? theme.error : message.tone === 'warn' ? theme.changed : message.tone === 'ok' ? theme.added : undefined;
    segments = [{ text: message.text, color, bold: message.tone !== 'info' }];
  } else {
    segments = [{ text: hints, color: theme.muted }];
  }
  return <Line width={width} segments={segments} />;
}
