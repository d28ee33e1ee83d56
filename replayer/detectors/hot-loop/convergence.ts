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

function wordsOf(path: string): string[] {
  const last = /([A-Za-z_]+)[^A-Za-z_]*$/.exec(path)?.[1] ?? '';
  return last
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[\s_]+/)
    .filter((w) => w.length >= 4 && !meaninglessWords.has(w));
}

/** Every numeric leaf of a JSON value, by diff path (`.status.readyReplicas`, `.spec.ports[0].port`). */
function numericLeaves(value: unknown, path: string, out: Map<string, number>, depth = 0): void {
  if (depth > 6) return;
  if (typeof value === 'number') out.set(path, value);
  else if (Array.isArray(value)) value.forEach((item, i) => numericLeaves(item, `${path}[${i}]`, out, depth + 1));
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) if (key !== 'metadata' || depth > 0) numericLeaves(item, `${path}.${key}`, out, depth + 1);
  }
}

export function makesProgress(after: Record<string, unknown>, changes: readonly DiffEntry[]): boolean {
  const moved = changes.filter((c) => c.kind === 'changed' && c.path.startsWith('.status.') && typeof c.before === 'number' && typeof c.after === 'number');
  if (moved.length === 0) return false;
  const leaves = new Map<string, number>();
  numericLeaves({ spec: after.spec, status: after.status }, '', leaves);
  const changedPaths = new Set(changes.map((c) => c.path));
  for (const change of moved) {
    const words = wordsOf(change.path);
    if (words.length === 0) continue;
    const from = change.before as number;
    const to = change.after as number;
    for (const [path, target] of leaves) {
      if (changedPaths.has(path) || path === change.path) continue;
      if (!wordsOf(path).some((w) => words.includes(w))) continue;
      const closer = Math.abs(target - to) < Math.abs(target - from);
      const notPassed = (from <= target && to <= target) || (from >= target && to >= target);
      if (closer && notPassed) return true;
    }
  }
  return false;
}
