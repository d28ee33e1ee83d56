import { z } from 'zod';
import { Coverage, Finding, FindingKind, SessionInfo, SessionRecord, Severity, Timestamp, findingKinds, recordKinds, severities } from '../model/index.js';

/**
 * The JSON report `kreplay export --format json` writes: a public contract people attach to incidents and feed to
 * scripts. Documented field by field in docs/export-schema.md; every change is additive, and a breaking one bumps
 * `apiVersion`. Records come last so a consumer (and our writer) can stream them.
 */

export const REPORT_API_VERSION = 'kreplay.dev/v1';
export const REPORT_KIND = 'Report';

/** What the replayer said about one record (relist, duplicate, tombstone, ...). The tag set is open. */
export const ReportAnnotation = z.object({
  tag: z.string().min(1),
  note: z.string(),
  uid: z.string().optional(),
});
export type ReportAnnotation = z.infer<typeof ReportAnnotation>;

/** A session record as stored (seq always set), with the replayer's annotations when it had any. */
export const ReportRecord = z.intersection(
  SessionRecord,
  z.object({
    seq: z.number().int().positive(),
    annotations: z.array(ReportAnnotation).optional(),
  }),
);
export type ReportRecord = z.infer<typeof ReportRecord>;

/** One object selected with `--object`. */
export const ObjectSelectorSchema = z.object({
  kind: z.string().nullable(),
  /** null: any namespace. */
  namespace: z.string().nullable(),
  name: z.string().min(1),
});
export type ObjectSelector = z.infer<typeof ObjectSelectorSchema>;

/** The part of the session the export covers: flags as given, and what they resolved to. */
export const ReportWindow = z.object({
  /** `--from` / `--to` as given: an RFC 3339 time or a seq number; null when not given. */
  from: z.string().nullable(),
  to: z.string().nullable(),
  objects: z.array(ObjectSelectorSchema),
  /** False when the whole session is exported. */
  cut: z.boolean(),
});
export type ReportWindow = z.infer<typeof ReportWindow>;

const countsOf = <T extends readonly [string, ...string[]]>(keys: T) => z.partialRecord(z.enum(keys), z.number().int().nonnegative());

export const ReportSummary = z.object({
  /** Records in the export (after the window), by record kind. */
  records: z.number().int().nonnegative(),
  recordsByKind: countsOf(recordKinds),
  /**
   * Objects the exported records name, counted as `kreplay sessions` and `check` count them (model/objects.ts): by
   * uid, a record without a uid joining the object of its name, else one object per name.
   */
  objects: z.number().int().nonnegative(),
  firstSeq: z.number().int().positive().nullable(),
  lastSeq: z.number().int().positive().nullable(),
  firstObservedAt: Timestamp.nullable(),
  lastObservedAt: Timestamp.nullable(),
  /** Findings in the export, suppressed ones included. */
  findings: z.number().int().nonnegative(),
  findingsBySeverity: countsOf(severities),
  findingsByKind: countsOf(findingKinds),
  suppressedFindings: z.number().int().nonnegative(),
});
export type ReportSummary = z.infer<typeof ReportSummary>;

/** The registry entry of a finding kind, copied so a report explains itself without kreplay at hand. */
export const ReportFindingKind = z.object({
  id: FindingKind,
  title: z.string(),
  severity: Severity,
  summary: z.string(),
  explanation: z.string(),
  pitfall: z.string(),
  fix: z.string(),
});
export type ReportFindingKind = z.infer<typeof ReportFindingKind>;

export const ReportHeader = z.object({
  apiVersion: z.literal(REPORT_API_VERSION),
  kind: z.literal(REPORT_KIND),
  generator: z.object({ name: z.literal('kreplay'), version: z.string() }),
  generatedAt: Timestamp,
  session: SessionInfo,
  window: ReportWindow,
  summary: ReportSummary,
  /** Whom the findings are about: the controller under debug, and how kreplay knows (given, inferred, unknown). */
  controller: z.object({ names: z.array(z.string()), basis: z.enum(['given', 'inferred', 'unknown']) }).optional(),
  /** Per kind that ran: whether the session held the input it needs; "no findings" claims nothing where it did not. */
  coverage: Coverage.optional(),
  /** The registry entries of the kinds that occur in `findings`. */
  findingKinds: z.partialRecord(FindingKind, ReportFindingKind),
  findings: z.array(Finding),
});
export type ReportHeader = z.infer<typeof ReportHeader>;

export const Report = ReportHeader.extend({
  /** Every record in the window, in seq order. Secret data is redacted. */
  records: z.array(ReportRecord),
});
export type Report = z.infer<typeof Report>;

/**
 * The JSON Schema (draft 2020-12) of the report, generated from the zod schema above and checked in as
 * docs/export-schema.json. Input form: fields with defaults are optional and unknown fields are allowed, so a
 * consumer validating with this schema keeps working when later versions add fields.
 */
export function reportJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Report, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: 'kreplay report',
    description: `The report \`kreplay export --format json\` writes (apiVersion ${REPORT_API_VERSION}). Documented in docs/export-schema.md.`,
    ...Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$schema')),
  };
}
