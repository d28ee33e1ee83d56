/** The fuzz run's size and seed from the environment, so CI, a developer and `npm run fuzz` run the same code. */
export interface FuzzSettings {
  readonly count: number;
  readonly importFiles: number;
  readonly seed: number;
  /**
   * The ingest process's peak resident set must stay under this. Idle it is ~70 MiB; 10,000 hostile requests, 8 at a
   * time, peak at ~120-135 MiB (freed memory glibc does not hand back). A body held whole (a 64 MiB gzip bomb
   * inflated, a 6 MB body buffered) would pass it.
   */
  readonly maxRssMiB: number;
}

export function fuzzSettings(env: Record<string, string | undefined>, defaults: { count: number }): FuzzSettings {
  const count = Number(env.KREPLAY_FUZZ_COUNT ?? defaults.count);
  if (!Number.isInteger(count) || count < 1) throw new Error(`KREPLAY_FUZZ_COUNT must be a positive integer, not ${env.KREPLAY_FUZZ_COUNT}`);
  const seed = Number(env.KREPLAY_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  return {
    count,
    importFiles: Number(env.KREPLAY_FUZZ_IMPORT_FILES ?? Math.max(30, Math.round(count / 10))),
    seed,
    maxRssMiB: Number(env.KREPLAY_FUZZ_MAX_RSS_MIB ?? 192),
  };
}
