import type { FuzzRuntime } from './ingest-fuzz.js';

/** The fuzz run's size and seed from the environment, so CI, a developer and `npm run fuzz` run the same code. */
export interface FuzzSettings {
  readonly count: number;
  readonly importFiles: number;
  readonly seed: number;
  /** How the ingest process runs node (KREPLAY_FUZZ_RUNTIME): as deploy/Dockerfile does (the default), or plain. */
  readonly runtime: FuzzRuntime;
  /**
   * The ingest process's peak resident set must stay under this (KREPLAY_FUZZ_MAX_RSS_MIB). As the image runs it, it
   * is ~61 MiB listening and peaks at ~94-97 MiB over 10,000 hostile requests 8 at a time; plain node peaks at
   * ~120-145 MiB (a young generation four times larger, one malloc arena per thread: docs/recorder.md). A body held
   * whole (a 64 MiB gzip bomb inflated) would not stay under the image's bound.
   */
  readonly maxRssMiB: number;
}

/**
 * `defaults.seed`: the test in CI passes a fixed one, so a gate is the same run every time (a new hostile input
 * found by `npm run fuzz`'s random seeds becomes a fix and a unit test, not a red build on someone else's change).
 */
export function fuzzSettings(env: Record<string, string | undefined>, defaults: { count: number; seed?: number }): FuzzSettings {
  const count = Number(env.KREPLAY_FUZZ_COUNT ?? defaults.count);
  if (!Number.isInteger(count) || count < 1) throw new Error(`KREPLAY_FUZZ_COUNT must be a positive integer, not ${env.KREPLAY_FUZZ_COUNT}`);
  const runtime = env.KREPLAY_FUZZ_RUNTIME ?? 'image';
  if (runtime !== 'image' && runtime !== 'node') throw new Error(`KREPLAY_FUZZ_RUNTIME must be image or node, not ${runtime}`);
  const seed = Number(env.KREPLAY_FUZZ_SEED ?? defaults.seed ?? Math.floor(Math.random() * 2 ** 31));
  return {
    count,
    importFiles: Number(env.KREPLAY_FUZZ_IMPORT_FILES ?? Math.max(30, Math.round(count / 10))),
    seed,
    runtime,
    maxRssMiB: Number(env.KREPLAY_FUZZ_MAX_RSS_MIB ?? (runtime === 'image' ? 128 : 192)),
  };
}
