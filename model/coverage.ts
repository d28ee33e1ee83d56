import { z } from 'zod';
import { FindingKind } from './findings.js';

/**
 * Whether a session held the input a finding kind needs: "no findings" from a watch-only session says nothing about
 * stale-read or the reconcile side of hot-loop. Computed by the replayer (replayer/coverage.ts), reported by
 * `check` (text and `--json` summary.coverage) and the exports (header.coverage).
 */
export const coverageStatuses = ['evaluated', 'partly', 'not-evaluated'] as const;
export const CoverageStatus = z.enum(coverageStatuses);
export type CoverageStatus = z.infer<typeof CoverageStatus>;

export const KindCoverage = z.object({
  status: CoverageStatus,
  /** What could not be judged and why, one entry per rule or input missing. */
  missing: z.array(z.string()),
});
export type KindCoverage = z.infer<typeof KindCoverage>;

/** Per kind that ran. */
export const Coverage = z.partialRecord(FindingKind, KindCoverage);
export type Coverage = z.infer<typeof Coverage>;
