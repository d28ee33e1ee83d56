import type { Severity } from '../model/index.js';

/**
 * The colour decision and the severity palette, without React: the TUI's theme and the CLI's text output (`kreplay
 * check` on a terminal) share them, so a warning is the same yellow in both and NO_COLOR switches both off.
 */

/** NO_COLOR (https://no-color.org) set to anything non-empty turns colours off; so does TERM=dumb. */
export function colorsAllowed(env: Record<string, string | undefined>): boolean {
  return !((env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.TERM === 'dumb');
}

/** Colour names as Ink (chalk) and node:util styleText both take them. */
export const severityColors = { info: 'blue', warning: 'yellow', error: 'red' } as const satisfies Record<Severity, string>;
