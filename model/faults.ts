import { z } from 'zod';
import { Duration } from './check-config.js';
import { apiVerbs, watchEventTypes } from './records.js';

/**
 * The faults `kreplay proxy --faults FILE` injects into what one controller sees (docs/proxy.md). A file is YAML or
 * JSON; it parses through this schema and nothing else, so a wrong field is named with its path.
 *
 *   seed: 7                      # the probability draws are a pure function of the seed and the order of matches
 *   rules:
 *     - name: lose-the-delete
 *       match: { resource: widgets, namespace: zoo-dfsu, name: lost, event: DELETED }
 *       when: { count: 1 }       # and/or after/before (since the proxy started), probability
 *       action: expire           # drop | duplicate | delay | close | expire | coalesce | stale-list | fail | timeout
 */

/**
 * What a rule does. Event actions apply to watch events delivered to the controller; `fail` and `timeout` to requests;
 * `stale-list` to lists (a LIST, or a watch's initial events) once the controller has listed before.
 */
export const faultActions = ['drop', 'duplicate', 'delay', 'close', 'expire', 'coalesce', 'fail', 'stale-list', 'timeout'] as const;
export const FaultAction = z.enum(faultActions);
export type FaultAction = z.infer<typeof FaultAction>;

export const eventFaultActions: readonly FaultAction[] = ['drop', 'duplicate', 'delay', 'close', 'expire', 'coalesce'];
/** Actions on the controller's requests (not its watches). */
export const requestFaultActions: readonly FaultAction[] = ['fail', 'timeout'];

/** The status codes a `fail` rule may answer with: what real API servers answer under contention and load. */
export const failCodes = [409, 429, 500, 503, 504] as const;

const FaultMatch = z.strictObject({
  /** Plural resource, lower-case (`widgets`, `configmaps`); absent: every resource. */
  resource: z.string().min(1).optional(),
  /** API group ('' for the core group); absent: any group. */
  group: z.string().optional(),
  namespace: z.string().min(1).optional(),
  /** The object's name (for events: the event's object; for requests: the URL's name). */
  name: z.string().min(1).optional(),
  /** Request verbs (`watch` for event actions; create, update, patch, delete, ... for `fail`). */
  verb: z.union([z.enum(apiVerbs), z.array(z.enum(apiVerbs)).min(1)]).optional(),
  /** Watch event types the rule applies to (event actions only). */
  event: z.union([z.enum(watchEventTypes), z.array(z.enum(watchEventTypes)).min(1)]).optional(),
  /** Subresource of a request (`status`); absent: any. */
  subresource: z.string().min(1).optional(),
});

const FaultWhen = z
  .strictObject({
    /** Not before this long after the proxy started. */
    after: Duration.optional(),
    /** Not after this long after the proxy started. */
    before: Duration.optional(),
    /** Fire at most this many times. */
    count: z.number().int().positive().optional(),
    /** Let this many matches pass first. */
    skip: z.number().int().nonnegative().optional(),
    /** Fire on each match with this probability (seeded draws). */
    probability: z.number().min(0).max(1).optional(),
  })
  .refine((w) => w.after === undefined || w.before === undefined || w.after < w.before, { message: '`after` must be earlier than `before`', path: ['before'] });

export const FaultRule = z
  .strictObject({
    name: z.string().min(1).optional(),
    match: FaultMatch.default({}),
    when: FaultWhen.default({}),
    action: FaultAction,
    /**
     * `delay`: how long each matching delivery is held (later events wait behind it: a watch keeps its order).
     * `coalesce`: the window over which the object's later versions replace the held one (only the last arrives).
     * `timeout`: how long the controller waits before its request is answered 504 Timeout (the request itself went
     * through: a timed-out write may well have been applied, as with the API server's own timeout).
     */
    delay: Duration.optional(),
    /** `fail`: the HTTP status to answer with. */
    code: z
      .number()
      .int()
      .refine((c) => (failCodes as readonly number[]).includes(c), { message: `must be one of ${failCodes.join(', ')}` })
      .optional(),
  })
  .superRefine((rule, ctx) => {
    const timed = rule.action === 'delay' || rule.action === 'coalesce' || rule.action === 'timeout';
    if (timed && rule.delay === undefined) ctx.addIssue({ code: 'custom', path: ['delay'], message: `a ${rule.action} rule needs \`delay\` (e.g. 2s)` });
    if (!timed && rule.delay !== undefined) ctx.addIssue({ code: 'custom', path: ['delay'], message: `\`delay\` only applies to the delay and coalesce actions, not ${rule.action}` });
    if (rule.action === 'fail' && rule.code === undefined) ctx.addIssue({ code: 'custom', path: ['code'], message: `a fail rule needs \`code\`: one of ${failCodes.join(', ')}` });
    if (rule.action !== 'fail' && rule.code !== undefined) ctx.addIssue({ code: 'custom', path: ['code'], message: `\`code\` only applies to the fail action, not ${rule.action}` });
    const verbs = rule.match.verb === undefined ? [] : Array.isArray(rule.match.verb) ? rule.match.verb : [rule.match.verb];
    if (rule.action === 'stale-list') {
      if (verbs.some((v) => v !== 'list' && v !== 'watch')) ctx.addIssue({ code: 'custom', path: ['match', 'verb'], message: 'stale-list acts on lists (list, or watch with sendInitialEvents)' });
      if (rule.match.event !== undefined) ctx.addIssue({ code: 'custom', path: ['match', 'event'], message: 'stale-list acts on whole lists, not on events: drop `event`' });
    } else if (rule.action === 'timeout') {
      if (rule.match.event !== undefined) ctx.addIssue({ code: 'custom', path: ['match', 'event'], message: 'timeout acts on requests, not on watch events: drop `event`' });
      if (verbs.includes('watch')) ctx.addIssue({ code: 'custom', path: ['match', 'verb'], message: 'a watch is long-running and never times out: to break one use close or expire' });
    } else if (rule.action !== 'fail' && verbs.some((v) => v !== 'watch')) {
      ctx.addIssue({ code: 'custom', path: ['match', 'verb'], message: `${rule.action} acts on watch events: its verb can only be watch` });
    }
    if (rule.action === 'fail' && rule.match.event !== undefined) ctx.addIssue({ code: 'custom', path: ['match', 'event'], message: 'fail acts on requests, not on watch events: drop `event`' });
    if (rule.action === 'fail' && verbs.includes('watch')) ctx.addIssue({ code: 'custom', path: ['match', 'verb'], message: 'to break a watch use close or expire, not fail' });
  });
export type FaultRule = z.infer<typeof FaultRule>;

export const FaultPlan = z.strictObject({
  seed: z.number().int().default(1),
  rules: z.array(FaultRule).default([]),
});
export type FaultPlan = z.infer<typeof FaultPlan>;
export type FaultPlanInput = z.input<typeof FaultPlan>;

/** A rule's name for markers and messages: its own, or its position. */
export function faultRuleName(rule: FaultRule, index: number): string {
  return rule.name ?? `rule ${index + 1} (${rule.action})`;
}

export function asList<T>(value: T | readonly T[] | undefined): readonly T[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/**
 * Named fault plans for the common cases (`--faults relist-storm`). Probabilities are per matching event or
 * request; the seed makes a run repeatable.
 */
export const faultProfiles = {
  /** Watches keep expiring: every relist path (410 Expired on resume, DeletedFinalStateUnknown) runs again and again. */
  'relist-storm': {
    seed: 1,
    rules: [
      { name: 'relist-storm: expire', when: { probability: 0.05 }, action: 'expire' },
      { name: 'relist-storm: close', when: { probability: 0.05 }, action: 'close' },
    ],
  },
  /**
   * An API server that restarted behind a lagging cache (Sieve's stale state): relists are served the state of the
   * previous list, and watches expire now and then so that relists happen.
   */
  'stale-restart': {
    seed: 1,
    rules: [
      { name: 'stale-restart: stale list', when: { probability: 0.5 }, action: 'stale-list' },
      { name: 'stale-restart: expire', when: { probability: 0.03 }, action: 'expire' },
    ],
  },
  /** A bad network and a busy server: watches cut, events late or twice, writes failing now and then. */
  'flaky-network': {
    seed: 1,
    rules: [
      { name: 'flaky-network: close', when: { probability: 0.02 }, action: 'close' },
      { name: 'flaky-network: timeout', when: { probability: 0.02 }, action: 'timeout', delay: '2s' },
      { name: 'flaky-network: delay', when: { probability: 0.05 }, action: 'delay', delay: '500ms' },
      { name: 'flaky-network: duplicate', when: { probability: 0.02 }, action: 'duplicate' },
      { name: 'flaky-network: 500', when: { probability: 0.05 }, action: 'fail', code: 500 },
      { name: 'flaky-network: 429', when: { probability: 0.03 }, action: 'fail', code: 429 },
      { name: 'flaky-network: 409', when: { probability: 0.03 }, action: 'fail', code: 409 },
    ],
  },
} as const satisfies Record<string, FaultPlanInput>;
export type FaultProfileName = keyof typeof faultProfiles;
