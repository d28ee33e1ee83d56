import { z } from 'zod';
import { FindingKind, Severity, findingKinds } from './findings.js';

/**
 * Options of the replayer's detectors and of `kreplay check`: thresholds, which finding kinds to run, and
 * suppressions. The same schema parses the `--config` file (YAML or JSON) and the flags, so both say the same thing
 * in the same words. Durations are Go duration strings ("90s", "5m", "1h30m"), as in controller flags.
 */

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const durationPattern = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;

/** Parses a Go-style duration ("1m30s", "500ms") to milliseconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  if (!durationPattern.test(trimmed)) return undefined;
  let total = 0;
  for (const match of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(match[1]) * durationUnits[match[2]!]!;
  return Math.round(total);
}

/** A Go duration string, parsed to milliseconds. */
export const Duration = z
  .string()
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration: write it like Go does, e.g. 90s, 5m, 1h30m, 500ms` });
      return z.NEVER;
    }
    return ms;
  });

/** Threshold defaults. Each one is documented in docs/findings.md next to the finding kind it tunes. */
export const defaultThresholds = {
  finalizerTimeout: '5m',
  hotLoopWrites: 10,
  hotLoopWindow: '60s',
  unreconciledAfter: '1m',
  notFoundRetries: 3,
  conflictRetries: 3,
  staleReadGrace: '1s',
  reconcileLag: '30s',
  hungReconcileAfter: '1m',
} as const;

export const Thresholds = z
  .object({
    /** stuck-finalizer: how long finalizers may hold an object with a deletionTimestamp. */
    finalizerTimeout: Duration.prefault(defaultThresholds.finalizerTimeout),
    /** hot-loop: this many writes (or reconciles) of one object by one manager ... */
    hotLoopWrites: z.number().int().min(2).default(defaultThresholds.hotLoopWrites),
    /** ... within this window, with no generation change, is a hot loop. */
    hotLoopWindow: Duration.prefault(defaultThresholds.hotLoopWindow),
    /** unreconciled: how long the newest generation may stay unobserved before the session ends. */
    unreconciledAfter: Duration.prefault(defaultThresholds.unreconciledAfter),
    /** notfound-retry: this many NotFound outcomes in a row for one object. */
    notFoundRetries: z.number().int().min(2).default(defaultThresholds.notFoundRetries),
    /** status-spec-race: this many 409 Conflicts in a row on one object by one client. */
    conflictRetries: z.number().int().min(2).default(defaultThresholds.conflictRetries),
    /**
     * stale-read: a newer version counts as "already delivered" only when the watch delivered it at least this long
     * before the reconcile started (the recorder's watch and the controller's informer are different connections).
     */
    staleReadGrace: Duration.prefault(defaultThresholds.staleReadGrace),
    /**
     * reconcile-lag: a change waiting longer than this for the reconcile that handles it is late; late changes
     * arriving over at least this long are a finding (a burst of creations worked off within it is not).
     */
    reconcileLag: Duration.prefault(defaultThresholds.reconcileLag),
    /** hung-reconcile: a reconcile running longer than this (finished or still running at the end of the session). */
    hungReconcileAfter: Duration.prefault(defaultThresholds.hungReconcileAfter),
  })
  .strict();
export type ThresholdsInput = z.input<typeof Thresholds>;
/** Thresholds with durations in milliseconds. */
export type ResolvedThresholds = z.output<typeof Thresholds>;

/** One glob: `*` matches any run of characters, `?` one character. */
const Glob = z.string().min(1);

/**
 * Silences findings on matching objects, with a reason that is printed next to every finding it silences.
 * Suppressed findings are still reported (marked) but never fail `check`.
 */
export const Suppression = z
  .object({
    /** Finding kind(s) to suppress; all kinds when absent. */
    finding: z.union([FindingKind, z.array(FindingKind).min(1)]).optional(),
    /** The object's kind, e.g. Deployment (exact, case-sensitive, like kubectl's output). */
    kind: z.string().min(1).optional(),
    /** Namespace glob; "" matches cluster-scoped objects. */
    namespace: z.string().optional(),
    /** Name glob: "web-*". */
    name: Glob.optional(),
    uid: z.string().min(1).optional(),
    reason: z.string().trim().min(1, 'a suppression needs a reason: say why this finding is expected'),
  })
  .strict()
  .refine((s) => s.kind !== undefined || s.namespace !== undefined || s.name !== undefined || s.uid !== undefined || s.finding !== undefined, {
    message: 'a suppression needs at least one of finding, kind, namespace, name or uid',
  });
export type Suppression = z.output<typeof Suppression>;

/** The object annotation that suppresses findings on that object: `"<kind>[,<kind>]: <reason>"`. */
export const suppressAnnotation = 'kreplay.dev/suppress';

/** Parses the annotation's value; returns an error message when it is malformed. */
export function parseSuppressAnnotation(value: string): { kinds: FindingKind[]; reason: string } | { error: string } {
  const colon = value.indexOf(':');
  if (colon === -1) return { error: `"${value}" has no reason: write "<kind>[,<kind>]: <reason>"` };
  const kinds = value
    .slice(0, colon)
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  const reason = value.slice(colon + 1).trim();
  if (kinds.length === 0) return { error: `"${value}" names no finding kind` };
  if (!reason) return { error: `"${value}" has an empty reason` };
  const unknown = kinds.filter((k) => !(findingKinds as readonly string[]).includes(k));
  if (unknown.length) return { error: `"${value}" names unknown finding kind(s) ${unknown.join(', ')}` };
  return { kinds: kinds as FindingKind[], reason };
}

/** The `--config` file, and (after merging flags over it) the options of one check run. */
export const CheckConfig = z
  .object({
    thresholds: Thresholds.default(Thresholds.parse({})),
    /** Run only these kinds ... */
    only: z.array(FindingKind).optional(),
    /** ... or all but these. */
    skip: z.array(FindingKind).default([]),
    /** `check` exits 1 when a non-suppressed finding at or above this severity is found. */
    failOn: Severity.default('warning'),
    suppress: z.array(Suppression).default([]),
    /**
     * The controller under debug: its field manager (watch streams) or audit user (`system:serviceaccount:ns:name`),
     * one name or several. Alarms are about it; without it, the busiest writer that is neither Kubernetes nor a tool.
     */
    controller: z
      .union([z.string().min(1), z.array(z.string().min(1))])
      .transform((value) => (typeof value === 'string' ? [value] : value))
      .default([]),
  })
  .strict();
export type CheckConfigInput = z.input<typeof CheckConfig>;
export type CheckConfig = z.output<typeof CheckConfig>;

/** The finding kinds a config enables, in registry order. */
export function enabledKinds(config: Pick<CheckConfig, 'only' | 'skip'>): FindingKind[] {
  const only = config.only ? new Set(config.only) : undefined;
  const skip = new Set(config.skip);
  return findingKinds.filter((kind) => (!only || only.has(kind)) && !skip.has(kind));
}
