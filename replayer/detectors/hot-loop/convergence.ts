import type { DiffEntry } from '../../diff.js';

/**
 * Progress converges, a loop does not. A rollout makes kube-controller-manager write a Deployment's status many
 * times a minute, each time with readyReplicas one closer to replicas; a counter, a timestamp or a re-allocated
 * nodePort changes on every write and approaches nothing.
 *
 * A write makes progress when a number under .status moves strictly closer to a target without passing it: another
 * number of the same object, unchanged by this write, whose name shares a word with it (readyReplicas → replicas,
 * numberReady → desiredNumberScheduled, readyMembers → members). Words that say nothing about a target do not count.
 */
const meaninglessWords: ReadonlySet<string> = new Set(['count', 'total', 'time', 'seconds', 'generation', 'observed', 'last', 'status', 'spec', 'num']);

/** The words of the last name in a diff path (`.status.readyReplicas` → ready, replicas). */
function wordsOf(path: string): readonly string[] {
  return wordsOfName(/([A-Za-z_]+)[^A-Za-z_]*$/.exec(path)?.[1] ?? '');
}

/** A name's words (a run of letters and underscores), memoised: field names are few, a map key can be anything. */
function wordsOfName(name: string): readonly string[] {
  let words = wordsByName.get(name);
  if (words === undefined) {
    words = name
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .toLowerCase()
      .split(/[\s_]+/)
      .filter((w) => w.length >= 4 && !meaninglessWords.has(w));
    if (wordsByName.size >= maxNames) wordsByName.clear();
    wordsByName.set(name, words);
  }
  return words;
}

/** A key's words: those of its last run of letters, or null when it has none (it is named by its parent). */
function wordsOfKey(key: string): readonly string[] | null {
  let words = wordsByKey.get(key);
  if (words === undefined) {
    const last = /([A-Za-z_]+)[^A-Za-z_]*$/.exec(key)?.[1];
    words = last === undefined ? null : wordsOfName(last);
    if (wordsByKey.size >= maxNames) wordsByKey.clear();
    wordsByKey.set(key, words);
  }
  return words;
}

const wordsByName = new Map<string, readonly string[]>();
const wordsByKey = new Map<string, readonly string[] | null>();
const maxNames = 10_000;

/** A numeric leaf with its diff path (`.status.readyReplicas`, `.spec.ports[0].port`) and its name's words. */
interface Leaf {
  readonly path: string;
  readonly words: readonly string[];
  readonly value: number;
}

/**
 * Every numeric leaf under `value` (depth ≤ 6 counting {spec, status} as 0). A leaf's words are those of its path's
 * last run of letters: its key's when the key has letters, else (an index, a key of digits) its parent's.
 */
function numericLeaves(value: unknown, words: readonly string[], stack: (string | number)[], depth: number, out: Leaf[]): void {
  if (depth > 6) return;
  if (typeof value === 'number') {
    out.push({ path: stack.map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${segment}`)).join(''), words, value });
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      stack.push(i);
      numericLeaves(value[i], words, stack, depth + 1, out);
      stack.pop();
    }
  } else if (value && typeof value === 'object') {
    // for-in: a JSON value's prototype has no enumerable keys.
    for (const key in value) {
      stack.push(key);
      numericLeaves((value as Record<string, unknown>)[key], wordsOfKey(key) ?? words, stack, depth + 1, out);
      stack.pop();
    }
  }
}

/**
 * The numeric leaves of a spec, by the spec object. Bodies are immutable and a version shares its unchanged subtrees
 * with the one before (store/codec.ts applyPatchImmutable): a hot loop's writes mostly leave the spec as it was, and
 * walking it (a pod template) for every write was most of what judging one cost.
 */
const specLeaves = new WeakMap<object, readonly Leaf[]>();

function leavesOf(after: Record<string, unknown>): Leaf[] {
  const leaves: Leaf[] = [];
  const spec = after.spec;
  if (spec && typeof spec === 'object') {
    let cached = specLeaves.get(spec);
    if (!cached) {
      const out: Leaf[] = [];
      numericLeaves(spec, wordsOfKey('spec')!, ['spec'], 1, out);
      specLeaves.set(spec, (cached = out));
    }
    for (const leaf of cached) leaves.push(leaf);
  } else numericLeaves(spec, wordsOfKey('spec')!, ['spec'], 1, leaves);
  numericLeaves(after.status, wordsOfKey('status')!, ['status'], 1, leaves);
  return leaves;
}

export function makesProgress(after: Record<string, unknown>, changes: readonly DiffEntry[]): boolean {
  const moved = changes.filter((c) => c.kind === 'changed' && c.path.startsWith('.status.') && typeof c.before === 'number' && typeof c.after === 'number');
  if (moved.length === 0) return false;
  let leaves: Leaf[] | undefined;
  let changedPaths: Set<string> | undefined;
  for (const change of moved) {
    const words = wordsOf(change.path);
    if (words.length === 0) continue;
    leaves ??= leavesOf(after);
    changedPaths ??= new Set(changes.map((c) => c.path));
    const from = change.before as number;
    const to = change.after as number;
    for (const { path, words: leafWords, value: target } of leaves) {
      if (changedPaths.has(path) || path === change.path) continue;
      if (!leafWords.some((w) => words.includes(w))) continue;
      const closer = Math.abs(target - to) < Math.abs(target - from);
      const notPassed = (from <= target && to <= target) || (from >= target && to >= target);
      if (closer && notPassed) return true;
    }
  }
  return false;
}
