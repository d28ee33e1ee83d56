import { render } from 'ink';
import { createElement } from 'react';
import type { Finding, SessionInfo } from '../model/index.js';
import { ReplayApp } from './components/ReplayApp.js';
import { StoreDataSource, type RecordReader } from './data-source.js';
import type { ViewFilter } from './filter.js';
import type { AnalysisInput } from './hooks.js';
import { ThemeContext, themeFor } from './theme.js';

export { ReplayApp, type ReplayAppProps } from './components/ReplayApp.js';
export { StoreDataSource, objectFilter, type ObjectVersion, type RecordReader, type ReplayDataSource, type SessionBounds } from './data-source.js';
export { parseFilter, formatFilter, type ViewFilter } from './filter.js';
export { FindingsIndex } from './findings-index.js';
export type { AnalysisInput, AnalysisLoader, AnalysisResult } from './hooks.js';
export { bindings } from './keymap.js';
export { HidingDataSource, isApiServerRequest } from './own-writes.js';

export interface RunReplayOptions {
  /** The store, or anything that reads records the same way (see RecordReader). */
  readonly store: RecordReader;
  readonly session: SessionInfo;
  /** Findings already computed (e.g. `kreplay demo` has them); takes precedence over `analysis`. */
  readonly findings?: readonly Finding[] | undefined;
  /** Findings and annotations, or a loader that computes them while the UI is already up. */
  readonly analysis?: AnalysisInput;
  /** Start at this seq (the nearest record at or after it). */
  readonly initialSeq?: number | undefined;
  /** Show only this object's records at first (`--object KIND/NS/NAME`). */
  readonly initialObject?: { readonly kind: string; readonly namespace: string | null; readonly name: string } | undefined;
  readonly stdin?: NodeJS.ReadStream | undefined;
  readonly stdout?: NodeJS.WriteStream | undefined;
  /** For NO_COLOR; defaults to process.env. */
  readonly env?: Record<string, string | undefined> | undefined;
  /** `replay --follow`: look for new records this often (ReplayApp's follow). */
  readonly follow?: { readonly intervalMs?: number } | undefined;
}

// The alternate screen (like less, vim, k9s): the session fills the terminal and the shell's scrollback is left
// as it was when the user quits.
const enterAlternateScreen = '\u001b[?1049h\u001b[2J\u001b[H';
const leaveAlternateScreen = '\u001b[?1049l';

/**
 * Opens the replay UI on a terminal and resolves when the user quits. The caller owns the store (and closes it).
 * `kreplay replay` and `kreplay demo` both come through here.
 */
export async function runReplay(options: RunReplayOptions): Promise<void> {
  if (typeof options.store?.page !== 'function' || typeof options.session?.id !== 'number') {
    throw new TypeError('runReplay needs { store, session: SessionInfo }; from the CLI call replaySession() in cli/commands/replay.ts');
  }
  const stdout = options.stdout ?? process.stdout;
  const stdin = options.stdin ?? process.stdin;
  const source = new StoreDataSource(options.store, options.session);
  const initialFilter: ViewFilter | undefined = options.initialObject
    ? { objectKind: options.initialObject.kind, namespace: options.initialObject.namespace ?? '', name: options.initialObject.name }
    : undefined;
  const analysis: AnalysisInput = options.findings ? { findings: options.findings } : options.analysis;
  const theme = themeFor(options.env ?? process.env);

  stdout.write(enterAlternateScreen);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    stdout.write(leaveAlternateScreen);
  };
  process.once('exit', restore);
  try {
    const app = render(
      createElement(ThemeContext.Provider, { value: theme }, createElement(ReplayApp, { source, analysis, initialSeq: options.initialSeq, initialFilter, openAtFirstAlarm: true, hideApiServerWrites: true, follow: options.follow })),
      { stdout, stdin, exitOnCtrlC: false, patchConsole: true, incrementalRendering: false, maxFps: 60 },
    );
    // Seqs are contiguous by construction; confirming it costs one count over the index, after the first frame.
    setTimeout(() => source.verifyContiguous(), 250).unref();
    await app.waitUntilExit();
  } finally {
    restore();
    process.off('exit', restore);
  }
}
