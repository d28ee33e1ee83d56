import type { Key } from 'ink';

/** Every action a key can trigger. The help overlay and the input handler both read `bindings`. */
export const actions = [
  'next',
  'prev',
  'pageDown',
  'pageUp',
  'start',
  'end',
  'follow',
  'nextFinding',
  'prevFinding',
  'nextChange',
  'prevChange',
  'watch',
  'unwatch',
  'continue',
  'reverseContinue',
  'goto',
  'back',
  'search',
  'searchNext',
  'searchPrev',
  'filter',
  'onlyObject',
  'viewDiff',
  'viewObject',
  'viewHistory',
  'viewFindings',
  'viewRecord',
  'focus',
  'activate',
  'managedFields',
  'apiServerWrites',
  'zoom',
  'help',
  'cancel',
  'quit',
] as const;
export type Action = (typeof actions)[number];

export interface Binding {
  readonly action: Action;
  /** How the help shows the keys. */
  readonly keys: string;
  readonly help: string;
  readonly group: 'Step' | 'Jump' | 'Watchpoints' | 'Find' | 'Panes' | 'General';
  /** Matches a key press. */
  readonly match: (input: string, key: Key) => boolean;
}

const ch = (...chars: string[]) => (input: string, key: Key) => !key.ctrl && !key.meta && chars.includes(input);
const ctrl = (c: string) => (input: string, key: Key) => key.ctrl && input === c;

export const bindings: readonly Binding[] = [
  { action: 'next', keys: 'j ↓', help: 'next record', group: 'Step', match: (i, k) => k.downArrow || ch('j')(i, k) },
  { action: 'prev', keys: 'k ↑', help: 'previous record', group: 'Step', match: (i, k) => k.upArrow || ch('k')(i, k) },
  { action: 'pageDown', keys: 'PgDn ^d ␣', help: 'page down', group: 'Step', match: (i, k) => k.pageDown || ctrl('d')(i, k) || ch(' ')(i, k) },
  { action: 'pageUp', keys: 'PgUp ^u b', help: 'page up', group: 'Step', match: (i, k) => k.pageUp || ctrl('u')(i, k) || ch('b')(i, k) },
  { action: 'start', keys: 'g Home', help: 'first record', group: 'Step', match: (i, k) => k.home || ch('g')(i, k) },
  { action: 'end', keys: 'G End', help: 'last record', group: 'Step', match: (i, k) => k.end || ch('G')(i, k) },
  { action: 'follow', keys: 'T', help: 'follow the tail as records arrive (--follow)', group: 'Step', match: ch('T') },
  { action: 'nextFinding', keys: 'f', help: 'next finding', group: 'Jump', match: ch('f') },
  { action: 'prevFinding', keys: 'F', help: 'previous finding', group: 'Jump', match: ch('F') },
  { action: 'nextChange', keys: ']', help: 'next version of the object', group: 'Jump', match: ch(']') },
  { action: 'prevChange', keys: '[', help: 'previous version of object', group: 'Jump', match: ch('[') },
  { action: 'goto', keys: ':', help: 'go to seq/time/±30s/±N/N%', group: 'Jump', match: ch(':') },
  { action: 'back', keys: '- ^o', help: 'back to before the jump', group: 'Jump', match: (i, k) => ch('-')(i, k) || ctrl('o')(i, k) },
  { action: 'watch', keys: 'w', help: 'watch a field of the object', group: 'Watchpoints', match: ch('w') },
  { action: 'continue', keys: 'c', help: 'continue to next change', group: 'Watchpoints', match: ch('c') },
  { action: 'reverseContinue', keys: 'C', help: 'reverse-continue', group: 'Watchpoints', match: ch('C') },
  { action: 'unwatch', keys: 'W', help: 'remove the watchpoint', group: 'Watchpoints', match: ch('W') },
  { action: 'search', keys: '/', help: 'search forward', group: 'Find', match: ch('/') },
  { action: 'searchNext', keys: 'n', help: 'next match', group: 'Find', match: ch('n') },
  { action: 'searchPrev', keys: 'N', help: 'previous match', group: 'Find', match: ch('N') },
  { action: 'filter', keys: '&', help: 'filter (syntax below)', group: 'Find', match: ch('&') },
  { action: 'onlyObject', keys: 'o', help: 'only this object (toggle)', group: 'Find', match: ch('o') },
  { action: 'apiServerWrites', keys: 'a', help: "API server's own writes", group: 'Find', match: ch('a') },
  { action: 'viewDiff', keys: '1', help: 'diff vs previous version', group: 'Panes', match: ch('1') },
  { action: 'viewObject', keys: '2', help: 'object at this step', group: 'Panes', match: ch('2') },
  { action: 'viewHistory', keys: '3', help: "the object's history", group: 'Panes', match: ch('3') },
  { action: 'viewFindings', keys: '4', help: 'findings, fix, evidence', group: 'Panes', match: ch('4') },
  { action: 'viewRecord', keys: '5', help: 'the raw record', group: 'Panes', match: ch('5') },
  { action: 'focus', keys: 'Tab', help: 'timeline ⇄ detail pane', group: 'Panes', match: (_i, k) => k.tab },
  { action: 'activate', keys: 'Enter', help: 'jump to line / watch field', group: 'Panes', match: (_i, k) => k.return },
  { action: 'managedFields', keys: 'm', help: 'show/hide managedFields', group: 'Panes', match: ch('m') },
  { action: 'zoom', keys: 'z', help: 'enlarge the detail pane', group: 'Panes', match: ch('z') },
  { action: 'help', keys: '?', help: 'this help', group: 'General', match: ch('?') },
  { action: 'cancel', keys: 'Esc', help: 'stop, close, back', group: 'General', match: (_i, k) => k.escape },
  { action: 'quit', keys: 'q ^c', help: 'quit', group: 'General', match: (i, k) => ch('q')(i, k) || ctrl('c')(i, k) },
];

export function actionFor(input: string, key: Key): Action | undefined {
  return bindings.find((binding) => binding.match(input, key))?.action;
}

/** The short hint line: the keys a first-time user needs. */
export const hints = 'j/k step  f/F finding  ]/[ change  w watch  c/C continue  / search  & filter  : go  ? help  q quit';
