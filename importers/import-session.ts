import type { SessionInfo } from '../model/index.js';
import type { SessionStore } from '../store/index.js';
import { CompactIdSet } from './audit-id-set.js';

/** The first problems a session keeps (the ones a user fixes first); the rest are counted. */
const maxSessionProblems = 100;

/** What an append needs of the session it adds to: the auditIDs it holds, its newest record's time, its end. */
export interface AppendBase {
  readonly seenAuditIds: CompactIdSet;
  /** Epoch ms of the session's newest record; -Infinity for a new session. */
  readonly sessionNewest: number;
  readonly sessionEndedAt: string | null;
}

export function appendBaseOf(store: SessionStore, existing: SessionInfo | undefined): AppendBase {
  const seenAuditIds = new CompactIdSet();
  if (!existing) return { seenAuditIds, sessionNewest: Number.NEGATIVE_INFINITY, sessionEndedAt: null };
  for (const record of store.records(existing.id, { filter: { kinds: ['api'] }, withObjects: false })) {
    if (record.record === 'api' && record.auditId) seenAuditIds.add(record.auditId);
  }
  const last = store.page(existing.id, { beforeSeq: Number.MAX_SAFE_INTEGER, limit: 1 })[0];
  return { seenAuditIds, sessionNewest: last?.observedAt ? Date.parse(last.observedAt) : Number.NEGATIVE_INFINITY, sessionEndedAt: existing.endedAt };
}

/**
 * Closes an import's session: marks it partial with the first problems (an interruption first) and how many more
 * there were, and ends it at its newest record — never before the end an appended-to session already had.
 * Returns whether the session is partial.
 */
export function finishImportedSession(
  store: SessionStore,
  session: SessionInfo,
  outcome: { interruption: string | null; problems: readonly string[]; problemCount: number; lastObservedAt: string | null; sessionEndedAt: string | null },
): boolean {
  const sessionProblems: string[] = [];
  if (outcome.interruption) sessionProblems.push(outcome.interruption);
  const room = maxSessionProblems - sessionProblems.length - (outcome.problemCount > maxSessionProblems - sessionProblems.length ? 1 : 0);
  sessionProblems.push(...outcome.problems.slice(0, room));
  if (outcome.problemCount > room) sessionProblems.push(`… and ${outcome.problemCount - room} more problems`);
  const partial = sessionProblems.length > 0;
  if (partial) store.markPartial(session.id, sessionProblems);
  const endedAt = outcome.lastObservedAt ?? new Date().toISOString();
  const previous = outcome.sessionEndedAt;
  store.endSession(session.id, previous && Date.parse(previous) > Date.parse(endedAt) ? previous : endedAt);
  return partial;
}
