import { createContext, useContext } from 'react';
import type { Severity } from '../model/index.js';
import type { RowTone } from './rows.js';
import type { LineTone } from './detail-lines.js';
import { colorsAllowed, severityColors } from './palette.js';

/**
 * Colours by role, so NO_COLOR (https://no-color.org) is one switch: every colour becomes undefined and emphasis
 * falls back to bold, underline and inverse, which NO_COLOR allows. Chalk (under Ink) does not read NO_COLOR
 * itself, so the TUI must.
 */
export interface Theme {
  readonly color: boolean;
  readonly accent: string | undefined;
  readonly muted: string | undefined;
  readonly added: string | undefined;
  readonly removed: string | undefined;
  readonly changed: string | undefined;
  readonly marker: string | undefined;
  readonly alert: string | undefined;
  readonly error: string | undefined;
  readonly severity: Readonly<Record<Severity, string | undefined>>;
  /** The cursor row: a background when colours are on, inverse video when they are off. */
  readonly cursorBackground: string | undefined;
}

export const colorTheme: Theme = {
  color: true,
  accent: 'cyan',
  muted: 'gray',
  added: 'green',
  removed: 'red',
  changed: 'yellow',
  marker: 'yellow',
  alert: 'magenta',
  error: 'red',
  severity: severityColors,
  cursorBackground: 'blue',
};

export const monoTheme: Theme = {
  color: false,
  accent: undefined,
  muted: undefined,
  added: undefined,
  removed: undefined,
  changed: undefined,
  marker: undefined,
  alert: undefined,
  error: undefined,
  severity: { info: undefined, warning: undefined, error: undefined },
  cursorBackground: undefined,
};

/** NO_COLOR set to anything non-empty turns colours off; so does TERM=dumb. */
export function themeFor(env: Record<string, string | undefined>): Theme {
  return colorsAllowed(env) ? colorTheme : monoTheme;
}

export const ThemeContext = createContext<Theme>(colorTheme);

export function useTheme(): Theme {
  return useContext(ThemeContext);
}

/** The one tone-to-colour map: timeline rows and detail lines speak the same palette. */
export function toneColor(theme: Theme, tone: RowTone | LineTone | undefined): string | undefined {
  switch (tone) {
    case 'added':
      return theme.added;
    case 'removed':
      return theme.removed;
    case 'changed':
      return theme.changed;
    case 'muted':
    case 'dim':
      return theme.muted;
    case 'accent':
    case 'heading':
      return theme.accent;
    case 'marker':
      return theme.marker;
    case 'alert':
      return theme.alert;
    case 'error':
      return theme.error;
    case 'warning':
      return theme.severity.warning;
    case 'info':
      return theme.severity.info;
    default:
      return undefined;
  }
}
