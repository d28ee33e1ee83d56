import { readFileSync } from 'node:fs';

/**
 * How deploy/Dockerfile runs node, read from the file itself so a measurement of "the recorder as deployed" cannot
 * drift from the image: the V8 flags in its runtime stage's NODE_OPTIONS and ENTRYPOINT, and its other ENV lines
 * (MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_: glibc reads them at start, so they must be in the
 * child's environment).
 * NODE_OPTIONS is returned as flags, which is the same to node and visible on the command line.
 */
export interface ImageRuntime {
  readonly nodeArgs: string[];
  readonly env: Record<string, string>;
}

const dockerfile = new URL('../deploy/Dockerfile', import.meta.url);

export function imageRuntime(text = readFileSync(dockerfile, 'utf8')): ImageRuntime {
  // The runtime stage: everything after the last FROM.
  const stage = text.split(/^FROM\s/m).pop() ?? '';
  const env: Record<string, string> = {};
  for (const match of stage.matchAll(/^ENV\s+([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)\s*$/gm)) {
    const value = match[2]!;
    env[match[1]!] = value.startsWith('"') ? (JSON.parse(value) as string) : value;
  }
  const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(stage);
  if (!entrypoint) throw new Error(`${dockerfile.pathname}: no ENTRYPOINT ["node", ...] in the runtime stage`);
  const words = JSON.parse(entrypoint[1]!) as string[];
  if (words[0] !== 'node') throw new Error(`${dockerfile.pathname}: the ENTRYPOINT runs ${words[0]}, not node`);
  const entryFlags = words.slice(1).filter((word) => word.startsWith('--'));
  const { NODE_OPTIONS: nodeOptions = '', ...rest } = env;
  return { nodeArgs: [...nodeOptions.split(/\s+/).filter(Boolean), ...entryFlags], env: rest };
}
