import { z } from 'zod';
import type { SessionRecord } from './records.js';

/**
 * A client's clock is not the recorder's. A record whose own time is further from the moment the recorder received
 * it than the allowed skew is kept as sent, with this flag: a controller on a node whose clock is off, or an SDK that
 * buffered its reports through a long outage, still tells what happened, but its time cannot stretch the session's
 * span (store/sqlite-store.ts listSessions, exporters/window.ts leave flagged records out of it).
 */
export const ClockSkew = z.object({
  /** The record's timestamp that was furthest from the receipt. */
  field: z.enum(['observedAt', 'startedAt', 'finishedAt']),
  /** When the recorder received the record (its own clock). */
  receivedAt: z.iso.datetime({ offset: true, local: false }),
  /** The field's time minus receivedAt: negative when the record claims to be older. */
  skewMs: z.number().int(),
});
export type ClockSkew = z.infer<typeof ClockSkew>;

/** `server.maxClockSkew` when the config does not say: five minutes, the Kerberos default and kubeadm's warning. */
export const defaultMaxClockSkewMs = 5 * 60_000;

/**
 * The timestamps a record makes a claim with. A reconcile's start is left out: a reconcile that ran ten minutes and
 * finished just now is on time; its finish and the record's observedAt are the claim.
 */
function claimedTimes(record: SessionRecord): { field: ClockSkew['field']; at: string | null }[] {
  const times: { field: ClockSkew['field']; at: string | null }[] = [{ field: 'observedAt', at: record.observedAt }];
  if (record.record === 'reconcile') times.push({ field: 'finishedAt', at: record.finishedAt });
  if (record.record === 'reconcile-start') times.push({ field: 'startedAt', at: record.startedAt });
  return times;
}

/** The flag a record gets when it was received at `receivedAtMs`; undefined when its clock is within `maxSkewMs`. */
export function clockSkewOf(record: SessionRecord, receivedAtMs: number, maxSkewMs: number): ClockSkew | undefined {
  let worst: { field: ClockSkew['field']; skewMs: number } | undefined;
  for (const { field, at } of claimedTimes(record)) {
    if (at === null) continue;
    const skewMs = Math.round(Date.parse(at) - receivedAtMs);
    if (Math.abs(skewMs) > maxSkewMs && (worst === undefined || Math.abs(skewMs) > Math.abs(worst.skewMs))) worst = { field, skewMs };
  }
  return worst && { ...worst, receivedAt: new Date(receivedAtMs).toISOString() };
}
