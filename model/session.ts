import { z } from 'zod';
import { Timestamp } from './records.js';

export const sessionSources = ['recorder', 'import:kubectl-watch', 'import:audit', 'import:ndjson', 'demo', 'proxy'] as const;
export const SessionSource = z.enum(sessionSources);
export type SessionSource = z.infer<typeof SessionSource>;

/** What a session is: where it came from and how complete it is. */
export const SessionInfo = z.object({
  id: z.number().int().positive(),
  name: z.string().min(1),
  source: SessionSource,
  cluster: z.string().nullable(),
  context: z.string().nullable(),
  startedAt: Timestamp.nullable(),
  endedAt: Timestamp.nullable(),
  toolVersion: z.string(),
  /** The configuration or import options used, verbatim. */
  config: z.record(z.string(), z.unknown()),
  /** True when records were skipped (bad input lines, dropped batches): the session is not the whole story. */
  partial: z.boolean(),
  /** Why the session is partial, human readable (first few problems). */
  problems: z.array(z.string()),
  createdAt: Timestamp,
});
export type SessionInfo = z.infer<typeof SessionInfo>;

export const NewSession = SessionInfo.pick({ name: true, source: true, cluster: true, context: true, toolVersion: true, config: true }).extend({
  startedAt: Timestamp.nullable().optional(),
});
export type NewSession = z.infer<typeof NewSession>;

/** Session names are used on the command line and in file names. */
export const SessionName = z
  .string()
  .min(1, 'a session name cannot be empty')
  .max(128, 'a session name is at most 128 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'a session name may hold letters, digits, ".", "_", ":" and "-", and starts with a letter or digit');

/**
 * The name a session gets when none is given: `record-20261125-100203`, `import-20261125-100203` (UTC, to the
 * second; sortable, and valid on the command line and in file names).
 */
export function defaultSessionName(prefix: 'record' | 'import', now: Date): string {
  return `${prefix}-${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}`;
}

/**
 * The controller under debug as the session was set up: `import --controller` (the import's `controller`), or the
 * recorder config's `controller` (its username, service account and display name, which is often its field manager).
 * Session configs are stored verbatim, so this reads them defensively.
 */
export function sessionControllerNames(config: Record<string, unknown>): string[] {
  const names: string[] = [];
  const controller = config.controller;
  if (typeof controller === 'string' && controller) names.push(controller);
  else if (controller && typeof controller === 'object') {
    const c = controller as { name?: unknown; username?: unknown; serviceAccount?: { namespace?: unknown; name?: unknown } };
    if (typeof c.username === 'string' && c.username) names.push(c.username);
    const sa = c.serviceAccount;
    if (sa && typeof sa.namespace === 'string' && typeof sa.name === 'string') names.push(`system:serviceaccount:${sa.namespace}:${sa.name}`);
    if (typeof c.name === 'string' && c.name) names.push(c.name);
  }
  return [...new Set(names)];
}
