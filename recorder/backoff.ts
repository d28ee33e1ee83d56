/**
 * Capped exponential backoff with jitter, the reflector's policy: client-go tools/cache/reflector.go builds its
 * backoff manager as NewExponentialBackoffManager(800ms, 30s, 2m, 2.0, 1.0): start at 800 ms, double up to 30 s,
 * add up to 100 % random jitter, and forget the history after 2 minutes without a failure. Randomness and time are
 * injected so tests can pin them.
 */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  /** 1.0 adds up to +100 % of the delay, spreading reconnects of many recorders after an API server restart. */
  readonly jitter: number;
  /** A failure this long after the previous one starts again from initialMs. */
  readonly resetAfterMs: number;
}

export const reflectorBackoff: BackoffPolicy = { initialMs: 800, maxMs: 30_000, factor: 2, jitter: 1, resetAfterMs: 120_000 };

export class Backoff {
  private attempt = 0;
  private lastFailureAt: number | undefined;

  constructor(
    private readonly policy: BackoffPolicy = reflectorBackoff,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records a failure at `now` (ms) and returns how long to wait before the next try. */
  next(now: number): number {
    if (this.lastFailureAt !== undefined && now - this.lastFailureAt > this.policy.resetAfterMs) this.attempt = 0;
    this.lastFailureAt = now;
    const base = Math.min(this.policy.maxMs, this.policy.initialMs * this.policy.factor ** this.attempt);
    this.attempt += 1;
    // Jitter is added after the cap, as wait.Jitter does: the cap bounds the base, not the spread.
    return Math.round(base * (1 + this.policy.jitter * this.random()));
  }

  /** Forget past failures (after a success that proves the connection is healthy). */
  reset(): void {
    this.attempt = 0;
    this.lastFailureAt = undefined;
  }

  get failures(): number {
    return this.attempt;
  }
}

/**
 * The server-side timeout of one watch request, randomised in [min, 2·min) like the reflector's
 * `minWatchTimeout * (rand + 1)`, so watches of many clients do not all end at the same moment.
 */
export function watchTimeoutSeconds(minSeconds: number, random: () => number = Math.random): number {
  return Math.floor(minSeconds * (1 + random()));
}
