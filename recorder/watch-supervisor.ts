import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { KubeObject, apiVersionOf, redactObject, type MarkerKind, type MarkerRecord, type ResumeOutcome, type SessionRecord, type WatchEventRecord } from '../model/index.js';
import { Backoff, reflectorBackoff, watchTimeoutSeconds, type BackoffPolicy } from './backoff.js';
import { watchKey } from './checkpoint.js';
import { KubeHttpError, collectionPath, discover, type KubeClient } from './kube-client.js';
import { silentLogger, type Logger } from './log.js';
import { paceReads } from './read-pacer.js';
import type { RecorderMetrics } from './metrics.js';
import { KnownObjects, vanishedSince, type KnownObject } from './relist.js';
import type { RecordSink } from './writer.js';

/**
 * One resource (in one namespace, or cluster-wide) recorded the way client-go's reflector sees it, from raw HTTP:
 *
 *   discover ─▶ list (limit/continue pages) ─▶ watch from the list's RV (allowWatchBookmarks) ─┐
 *      ▲              ▲                                                                      │
 *      │ 404          └──── 410 Gone (in-stream ERROR 410, or HTTP 410) ◀──────────────────────┤
 *      └──────────────────── resource no longer served ◀───────────────────────────────────────┤
 *                           disconnect / server timeout / inactivity ─▶ watch again from the last RV seen
 *
 * After a recorder restart on a session (`resume`), the first step is a watch from the RV committed for this watch
 * before the restart (checkpoint.ts) instead of a list; only a 410 for it relists. The first marker of the watch
 * after the restart says which (`resume`: resumed / relisted / listed).
 *
 * Everything the server sent is recorded with its origin; everything the recorder did (list, watch start and close,
 * 410, errors) is a marker; objects a relist proves gone are recorded as tombstones (see relist.ts and
 * docs/recorder.md). Upstream reference: client-go tools/cache/reflector.go (ListAndWatch, watchHandler).
 */

export interface WatchSpec {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  /** null: all namespaces, or a cluster-scoped resource. */
  readonly namespace: string | null;
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
}

export interface SupervisorSettings {
  readonly pageSize: number;
  /** Minimum server-side watch timeout; each watch asks for a random value in [t, 2t). */
  readonly watchTimeoutSeconds: number;
  /** No bytes at all for this long (bookmarks arrive about once a minute): the connection is presumed dead. */
  readonly inactivityTimeoutMs: number;
  /** A busy watch is read at most this often (read-pacer.ts); 0 reads each segment as it arrives. */
  readonly readIntervalMs: number;
  readonly backoff: BackoffPolicy;
}

export const defaultSupervisorSettings: SupervisorSettings = {
  pageSize: 500,
  watchTimeoutSeconds: 300,
  inactivityTimeoutMs: 150_000,
  readIntervalMs: 50,
  backoff: reflectorBackoff,
};

export interface SupervisorOptions {
  readonly client: KubeClient;
  readonly spec: WatchSpec;
  readonly sink: RecordSink;
  readonly settings?: Partial<SupervisorSettings>;
  readonly metrics?: RecorderMetrics | undefined;
  readonly log?: Logger | undefined;
  readonly redactPaths?: readonly string[];
  /** Objects known live before this supervisor started (a resumed session): a relist writes tombstones for them. */
  readonly seed?: readonly KnownObject[];
  /** The last recorded body of an object, for its tombstone (client-go's DeletedFinalStateUnknown.Obj). */
  readonly lastKnownObject?: (entry: KnownObject) => Promise<KubeObject | null | undefined>;
  /**
   * When the resource turns out to be cluster-scoped but was configured per namespace, exactly one of the
   * supervisors (the owner) watches it cluster-wide; the others stand down.
   */
  readonly clusterScopedOwner?: boolean;
  /**
   * The recorder restarted on an existing session: resourceVersion is the one committed for this watch before the
   * restart (checkpoint.ts), undefined when there is none (the watch is new in the config). Absent: a new session.
   */
  readonly resume?: { readonly resourceVersion: string | undefined } | undefined;
  readonly random?: () => number;
  /** Wall clock (ms since epoch) for observedAt. */
  readonly now?: () => number;
  /** Monotonic clock (ms) for durations and latency. */
  readonly monotonic?: () => number;
}

export type SupervisorPhase = 'discovering' | 'listing' | 'watching' | 'backing-off' | 'held' | 'idle' | 'stopped';

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The envelope of one watch line (apimachinery pkg/apis/meta/v1/watch.go WatchEvent). The object is only checked to
 * be an object here; the metadata fields the recorder reads are checked by hand in handleLine. Parsing the whole
 * object through the KubeObject schema cost half as much again as JSON.parse itself, on every event.
 */
const WatchLine = z.object({
  type: z.enum(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']),
  object: z.custom<KubeObject>(isPlainObject, 'object must be a JSON object'),
});

const eventTypes = ['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'] as const;
const eventTypeSet: ReadonlySet<unknown> = new Set(eventTypes);

/** What WatchLine accepts, without building zod's result: this runs for every event. */
function isWatchLine(json: unknown): json is z.infer<typeof WatchLine> {
  return isPlainObject(json) && eventTypeSet.has(json.type) && isPlainObject(json.object);
}

/** A Status object (in-stream ERROR, or the body of a failed request). */
interface Status {
  code?: number;
  reason?: string;
  message?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

interface Resolved {
  readonly kind: string;
  readonly namespace: string | null;
}

type WatchOutcome =
  | { kind: 'closed' }
  | { kind: 'gone'; status: Status }
  | { kind: 'error'; message: string; code?: number | undefined; retryAfterSeconds?: number | undefined }
  | { kind: 'inactive' }
  | { kind: 'held' }
  | { kind: 'stopped' };

class Stopped extends Error {}

export class WatchSupervisor {
  private readonly settings: SupervisorSettings;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly monotonic: () => number;
  private readonly backoff: Backoff;
  private readonly abort = new AbortController();
  /** Interrupts the current request or sleep without stopping (hold); replaced after each use. */
  private interrupt = new AbortController();
  private held: { released: Promise<void>; release: () => void; parked: () => void } | undefined;
  private readonly label: string;
  /** Back-pressure pauses of the current watch stream (reset when one opens): how often, and how long not reading. */
  private backpressure = { pauses: 0, ms: 0 };
  private backpressureWarnedAt: number | undefined;
  private resolved: Resolved | undefined;
  private known: KnownObjects;
  private needList = true;
  private lastRV: string | undefined;
  /** checkpoint.ts watchKey: what this watch's records are pushed under, so their commit moves its resume point. */
  private readonly checkpoint: string;
  /** After a restart: the committed RV to watch from, until the server accepts or refuses it. */
  private resumeFrom: string | undefined;
  /** After a restart, until the first list-started or accepted watch-started has said how the watch went on. */
  private resumePending: boolean;
  /** The committed RV the server refused (410), and what it said: the relist that follows says so. */
  private resumeRefused: string | undefined;
  private refusedStatus: string | undefined;
  private waitingMarked = false;
  private running: Promise<void> | undefined;
  private syncedOnce = false;
  private phaseValue: SupervisorPhase = 'discovering';
  private readonly counts = { events: 0, lists: 0, relists: 0, gone: 0, tombstones: 0, restarts: 0, errors: 0 };
  /** Labelled counters resolved once: prom-client's label lookup costs more than the increment, on every event. */
  private readonly eventCounters: Partial<Record<(typeof eventTypes)[number], { inc(n?: number): void }>> = {};
  /** Event counts by type not yet added to the metric: counted per line, added per read (prom-client's inc costs more). */
  private readonly pendingEventCounts = new Map<(typeof eventTypes)[number], number>();

  constructor(private readonly options: SupervisorOptions) {
    this.settings = { ...defaultSupervisorSettings, ...options.settings };
    this.log = (options.log ?? silentLogger).with({ resource: describeSpec(options.spec) });
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.monotonic = options.monotonic ?? (() => performance.now());
    this.backoff = new Backoff(this.settings.backoff, this.random);
    this.known = new KnownObjects(options.seed ?? []);
    this.checkpoint = watchKey(options.spec);
    this.resumePending = options.resume !== undefined;
    this.resumeFrom = options.resume?.resourceVersion;
    this.label = `${apiVersionOf(options.spec.group, options.spec.version)}/${options.spec.resource}`;
    if (options.metrics) for (const type of eventTypes) this.eventCounters[type] = options.metrics.watchEvents.labels(this.label, type);
  }

  /** True once the first list has been recorded (or the supervisor stood down): /readyz waits for every one. */
  get synced(): boolean {
    return this.syncedOnce;
  }

  get phase(): SupervisorPhase {
    return this.phaseValue;
  }

  /** The kind discovery reported, once known. */
  get kind(): string | undefined {
    return this.resolved?.kind;
  }

  get spec(): WatchSpec {
    return this.options.spec;
  }

  status(): { resource: string; namespace: string | null; phase: SupervisorPhase; synced: boolean; resourceVersion: string | null; known: number } & typeof this.counts {
    return {
      resource: describeSpec(this.options.spec),
      namespace: this.options.spec.namespace,
      phase: this.phaseValue,
      synced: this.syncedOnce,
      resourceVersion: this.lastRV ?? null,
      known: this.known.size,
      ...this.counts,
    };
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Closes the current request and waits for the loop to end; the last marker is watch-closed "recorder stopping". */
  async stop(): Promise<void> {
    this.abort.abort(new Stopped('recorder stopping'));
    const held = this.held;
    this.held = undefined;
    held?.parked();
    held?.release();
    await this.running;
    this.phaseValue = 'stopped';
  }

  private get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  /** The signal for one request or sleep: stop or hold abort it. */
  private get signal(): AbortSignal {
    return AbortSignal.any([this.abort.signal, this.interrupt.signal]);
  }

  /** Interrupted by hold(), not stopped. */
  private get interrupted(): boolean {
    return this.interrupt.signal.aborted && !this.stopping;
  }

  /**
   * Closes the watch (or list) in progress and parks the loop until release(): used to rotate segments, so the
   * old segment ends with watch-closed and the new one starts with a list. Resolves once parked.
   */
  async hold(): Promise<void> {
    if (!this.running || this.stopping || this.phaseValue === 'idle' || this.held) return;
    let release!: () => void;
    let parked!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const isParked = new Promise<void>((resolve) => (parked = resolve));
    this.held = { released, release, parked };
    this.interrupt.abort(new Stopped('held'));
    await isParked;
  }

  /** Resumes after hold(); with relist the loop lists again before watching (the new segment's first state). */
  release(options: { relist: boolean }): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    if (options.relist && this.resolved) {
      this.needList = true;
      this.resumeFrom = undefined;
      this.resumePending = false;
    }
    held.release();
  }

  private async run(): Promise<void> {
    while (!this.stopping && this.phaseValue !== 'idle') {
      if (this.held) {
        this.phaseValue = 'held';
        this.held.parked();
        await this.held.released;
        continue;
      }
      if (this.interrupt.signal.aborted) this.interrupt = new AbortController();
      try {
        if (!this.resolved) await this.resolve();
        else if (this.needList) await this.list();
        else await this.watch();
      } catch (error) {
        if (this.stopping) break;
        if (this.interrupted) continue;
        // Anything unexpected: log, mark, count, back off, carry on. One bad response never ends the recording.
        this.counts.errors += 1;
        const message = error instanceof Error ? error.message : String(error);
        this.log.error('unexpected error; retrying', { error: message });
        this.mark('error', { message: `unexpected: ${message}`, code: error instanceof KubeHttpError ? error.status : undefined });
        await this.sleep(this.backoff.next(this.monotonic()));
      }
    }
  }

  // ---- discovery ----------------------------------------------------------------------------------------------

  private async resolve(): Promise<void> {
    this.phaseValue = 'discovering';
    const { spec } = this.options;
    let found;
    try {
      found = await discover(this.options.client, spec, { signal: this.signal });
    } catch (error) {
      if (!(error instanceof KubeHttpError) || this.stopping || this.interrupted) throw error;
      await this.failed(`discovery: ${error.message}`, error.status || undefined, error.retryAfterSeconds);
      return;
    }
    if (!found) {
      if (!this.waitingMarked) {
        this.waitingMarked = true;
        this.log.warn('resource not served (yet); waiting for it to appear');
        this.mark('error', { code: 404, message: `${this.label} is not served by the API server (yet): waiting for it (a CRD not created yet?)` });
      }
      await this.sleep(this.backoff.next(this.monotonic()));
      return;
    }
    if (!found.verbs.includes('list') || !found.verbs.includes('watch')) {
      this.mark('error', { message: `${this.label} does not support list and watch (verbs: ${found.verbs.join(', ')}); not recorded` });
      this.standDown();
      return;
    }
    let namespace = spec.namespace;
    if (!found.namespaced && namespace !== null) {
      if (!this.options.clusterScopedOwner) {
        this.standDown();
        return;
      }
      this.log.warn('cluster-scoped resource configured with namespaces; watching it cluster-wide');
      namespace = null;
    }
    if (this.waitingMarked) this.log.info('resource appeared', { kind: found.kind });
    this.resolved = { kind: found.kind, namespace };
    // After a restart, watch on from the committed RV (a 410 for it relists); otherwise list first.
    this.needList = this.resumeFrom === undefined;
    if (this.resumeFrom !== undefined) this.lastRV = this.resumeFrom;
    this.backoff.reset();
  }

  /** Nothing to record here (see clusterScopedOwner): counts as synced so /readyz does not wait for it. */
  private standDown(): void {
    this.phaseValue = 'idle';
    this.syncedOnce = true;
  }

  // ---- list ---------------------------------------------------------------------------------------------------

  private query(extra: Record<string, string | undefined>): string {
    const { labelSelector, fieldSelector } = this.options.spec;
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries({ labelSelector, fieldSelector, ...extra })) if (value !== undefined && value !== '') params.set(key, value);
    const text = params.toString();
    return text ? `?${text}` : '';
  }

  /**
   * Lists in pages with an unset resourceVersion (a consistent read: never older than what the controller may have
   * seen; served from the watch cache on servers with ConsistentListFromCache). An expired continue token (HTTP 410)
   * restarts the list; a second one in a row falls back to one unpaginated list, as client-go's pager does
   * (tools/pager/pager.go FullListIfExpired).
   */
  private async list(): Promise<void> {
    const resolved = this.resolved!;
    this.phaseValue = 'listing';
    const path = collectionPath(this.options.spec, resolved.namespace);
    const startedAt = this.observedAt();
    const relist = this.counts.lists > 0 || this.known.size > 0;
    let expiredContinues = 0;
    let items: unknown[] = [];
    let listRV: string | undefined;
    for (let continueToken: string | undefined, paginate = true; ; ) {
      let body: { metadata?: { resourceVersion?: string; continue?: string }; items?: unknown[] };
      try {
        const response = await this.options.client.getJson(
          `${path}${this.query({ limit: paginate ? String(this.settings.pageSize) : undefined, continue: continueToken })}`,
          { signal: this.signal, timeoutMs: 120_000 },
        );
        body = (response.body ?? {}) as typeof body;
      } catch (error) {
        if (!(error instanceof KubeHttpError)) throw error;
        if (this.stopping || this.interrupted) throw new Stopped();
        if (error.status === 410) {
          this.counts.gone += 1;
          this.options.metrics?.gone.inc({ resource: this.label });
          expiredContinues += continueToken ? 1 : 0;
          paginate = expiredContinues < 2;
          this.mark('gone', { code: 410, message: `list: ${error.message}; listing again${paginate ? '' : ' without pagination'}` });
          items = [];
          continueToken = undefined;
          continue;
        }
        if (error.status === 404) {
          this.mark('error', { code: 404, message: `list: ${error.message}; the resource is no longer served, waiting for it` });
          this.resolved = undefined;
          this.waitingMarked = true;
          return;
        }
        await this.failed(`list: ${error.message}`, error.status, error.retryAfterSeconds);
        return;
      }
      if (!Array.isArray(body.items)) {
        await this.failed(`list: the answer has no items array`, undefined);
        return;
      }
      for (const item of body.items) items.push(item);
      continueToken = body.metadata?.continue || undefined;
      if (!continueToken) {
        listRV = body.metadata?.resourceVersion;
        break;
      }
    }
    if (!listRV) {
      await this.failed('list: the answer has no resourceVersion', undefined);
      return;
    }
    this.recordList(resolved, items, listRV, startedAt, relist);
    await this.recordTombstones(resolved, listRV);
    this.finishList(resolved, listRV, items.length);
  }

  private pendingList: { records: SessionRecord[]; listed: KnownObjects; tombstones: number } | undefined;

  private recordList(resolved: Resolved, items: readonly unknown[], listRV: string, startedAt: string, relist: boolean): void {
    const observedAt = this.observedAt();
    const started: MarkerRecord = { ...this.markerBase('list-started', resolved), observedAt: startedAt, origin: 'relist', message: relist ? 'relist' : 'initial list' };
    const resume = this.listResumeOutcome();
    if (resume) {
      started.resume = resume.outcome;
      started.message = `${started.message} after the recorder restarted: ${resume.why}`;
      if (resume.refused !== undefined) {
        started.code = 410;
        started.resourceVersion = resume.refused;
      }
    }
    const records: SessionRecord[] = [started];
    const listed = new KnownObjects();
    const apiVersion = apiVersionOf(this.options.spec.group, this.options.spec.version);
    for (const raw of items) {
      const parsed = KubeObject.safeParse(raw);
      const meta = parsed.success ? parsed.data.metadata : undefined;
      if (!parsed.success || !meta?.name || !meta.uid || !meta.resourceVersion) {
        this.streamError(`list item without name, uid or resourceVersion: ${JSON.stringify(raw).slice(0, 200)}`);
        continue;
      }
      // List items come without apiVersion/kind (the list carries them). Set them: the bodies become
      // self-describing, and Secret redaction, which keys on kind, cannot miss a listed Secret.
      const object = { ...parsed.data, apiVersion, kind: resolved.kind };
      records.push(this.watchRecord('ADDED', 'relist', object, resolved, observedAt));
      listed.upsert(knownOf(object));
    }
    this.pendingList = { records, listed, tombstones: 0 };
  }

  /** The first list after a restart says why it lists instead of resuming the watch. */
  private listResumeOutcome(): { outcome: ResumeOutcome; why: string; refused?: string } | undefined {
    if (!this.resumePending) return undefined;
    this.resumePending = false;
    const refused = this.resumeRefused;
    const status = this.refusedStatus;
    this.resumeRefused = this.refusedStatus = undefined;
    if (refused !== undefined) {
      return {
        outcome: 'relisted',
        refused,
        why: `resourceVersion ${refused}, the last committed for this watch, is too old (410${status ? `: ${status}` : ''}): the API server no longer has the changes since`,
      };
    }
    return { outcome: 'listed', why: 'no resourceVersion was committed for this watch (new in the config, or recorded before resume points existed)' };
  }

  private async recordTombstones(resolved: Resolved, listRV: string): Promise<void> {
    const pending = this.pendingList!;
    const listedUids = new Set<string>();
    for (const entry of pending.listed.values()) listedUids.add(entry.uid);
    const vanished = vanishedSince(this.known.values(), listedUids);
    for (const entry of vanished) {
      let last: KubeObject | null | undefined;
      try {
        last = await this.options.lastKnownObject?.(entry);
      } catch (error) {
        this.log.warn('could not read the last known state for a tombstone', { uid: entry.uid, error: (error as Error).message });
      }
      const object: KubeObject = last ?? {
        apiVersion: apiVersionOf(this.options.spec.group, this.options.spec.version),
        kind: resolved.kind,
        metadata: {
          name: entry.name,
          ...(entry.namespace ? { namespace: entry.namespace } : {}),
          uid: entry.uid,
          ...(entry.resourceVersion ? { resourceVersion: entry.resourceVersion } : {}),
        },
      };
      // The tombstone: a DELETED that no watch delivered, origin 'relist'. Its resourceVersion is the list's (the
      // point at which the absence was observed); the body is the last state the recorder saw, like
      // DeletedFinalStateUnknown.Obj.
      // A body read back from the session is already redacted (model/redact.ts is not idempotent: do it once).
      const record = this.watchRecord('DELETED', 'relist', object, resolved, this.observedAt(), last !== undefined && last !== null);
      pending.records.push({ ...record, resourceVersion: listRV, name: entry.name, namespace: entry.namespace, uid: entry.uid });
      pending.tombstones += 1;
    }
  }

  private finishList(resolved: Resolved, listRV: string, itemCount: number): void {
    const pending = this.pendingList!;
    this.pendingList = undefined;
    const relist = this.counts.lists > 0;
    pending.records.push({
      ...this.markerBase('list-finished', resolved),
      origin: 'relist',
      resourceVersion: listRV,
      count: pending.listed.size,
      message:
        `${pending.listed.size} object(s)` +
        (pending.tombstones ? `; ${pending.tombstones} known object(s) missing from the list recorded as tombstones (DELETED, origin relist)` : '') +
        (itemCount !== pending.listed.size ? `; ${itemCount - pending.listed.size} unusable item(s) skipped` : ''),
    });
    // One push: the whole list, bracketed by its markers, is contiguous in the session.
    this.push(pending.records);
    this.known = pending.listed;
    this.lastRV = listRV;
    this.needList = false;
    this.counts.lists += 1;
    if (relist) this.counts.relists += 1;
    this.counts.tombstones += pending.tombstones;
    this.options.metrics?.lists.inc({ resource: this.label });
    this.options.metrics?.listedObjects.inc({ resource: this.label }, pending.listed.size);
    if (pending.tombstones) this.options.metrics?.tombstones.inc({ resource: this.label }, pending.tombstones);
    this.log.info(relist ? 'relisted' : 'listed', { rv: listRV, objects: pending.listed.size, tombstones: pending.tombstones });
    if (!this.syncedOnce) {
      this.syncedOnce = true;
      this.options.metrics?.synced.set({ resource: this.label }, 1);
    }
  }

  // ---- watch --------------------------------------------------------------------------------------------------

  private async watch(): Promise<void> {
    const resolved = this.resolved!;
    this.phaseValue = 'watching';
    const fromRV = this.lastRV!;
    const resuming = this.resumePending && this.resumeFrom !== undefined && fromRV === this.resumeFrom;
    const timeout = watchTimeoutSeconds(this.settings.watchTimeoutSeconds, this.random);
    const path = `${collectionPath(this.options.spec, resolved.namespace)}${this.query({
      watch: '1',
      resourceVersion: fromRV,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(timeout),
    })}`;
    const started = this.monotonic();
    const request = new AbortController();
    const signal = this.signal;
    const onStop = () => request.abort(signal.reason);
    signal.addEventListener('abort', onStop, { once: true });
    let outcome: WatchOutcome;
    let events = 0;
    let opened = false;
    try {
      const response = await this.options.client.openStream(path, request.signal);
      // watch-started only once the server accepted the watch: a refused request is an error, not a watch. A resumed
      // watch is accepted only once the stream shows it (an RV too old is refused in the stream: consume).
      let startMarker: MarkerRecord | undefined = this.markerRecord('watch-started', { resourceVersion: fromRV, message: `timeoutSeconds=${timeout}` });
      if (resuming) {
        startMarker.resume = 'resumed';
        startMarker.message = `resumed from resourceVersion ${fromRV}, the last committed for this watch before the recorder restarted: the API server re-sends every change since; timeoutSeconds=${timeout}`;
      } else {
        this.push([startMarker]);
        startMarker = undefined;
        opened = true;
      }
      this.backpressure = { pauses: 0, ms: 0 };
      const result = await this.consume(response, resolved, startMarker);
      outcome = result.outcome;
      events = result.events;
      opened ||= result.started;
    } catch (error) {
      if (this.stopping) outcome = { kind: 'stopped' };
      else if (this.interrupted) outcome = { kind: 'held' };
      else if (error instanceof KubeHttpError && error.status === 410) outcome = { kind: 'gone', status: { code: 410, reason: error.reason, message: error.message } };
      else if (error instanceof KubeHttpError) outcome = { kind: 'error', message: error.message, code: error.status || undefined, retryAfterSeconds: error.retryAfterSeconds };
      else throw error;
    } finally {
      request.abort();
      signal.removeEventListener('abort', onStop);
    }
    const lasted = this.monotonic() - started;
    if (resuming && !opened && outcome.kind === 'gone') {
      // The committed RV is out of the API server's history: relist (tombstones for what vanished meanwhile).
      this.resumeRefused = fromRV;
      this.resumeFrom = undefined;
    }
    await this.afterWatch(outcome, fromRV, events, lasted, opened);
  }

  /** The server accepted the resumed watch: it goes on from the committed RV, no list needed. */
  private resumeAccepted(): void {
    this.resumePending = false;
    this.resumeFrom = undefined;
    this.log.info('resumed the watch from the committed resourceVersion', { rv: this.lastRV });
    if (!this.syncedOnce) {
      this.syncedOnce = true;
      this.options.metrics?.synced.set({ resource: this.label }, 1);
    }
  }

  private async afterWatch(outcome: WatchOutcome, fromRV: string, events: number, lastedMs: number, opened: boolean): Promise<void> {
    const reason = outcome.kind;
    const closeMessage = {
      closed: 'closed by the server',
      gone: '410 Gone: relisting',
      error: outcome.kind === 'error' ? `error: ${outcome.message}` : '',
      inactive: `no data for ${Math.round(this.settings.inactivityTimeoutMs / 1000)}s: connection presumed dead`,
      held: 'segment rotation',
      stopped: 'recorder stopping',
    }[reason];
    if (outcome.kind === 'gone') {
      this.counts.gone += 1;
      this.options.metrics?.gone.inc({ resource: this.label });
      // A refused resume is said by the list-started that follows (resume: relisted, code 410), not by a gone marker:
      // the replayer reads `gone` as a gap of the watch the controller shares (lost-event relist-gap), while this one
      // is the recorder's own downtime, already marked by recorder-started (replayer/fold/relists.ts).
      if (this.resumeRefused === undefined && this.backpressure.pauses > 0) {
        // The recorder's own loss, not the controller's: the watch fell behind because this recorder stopped reading
        // it. A `gone` would read as a gap of the watch the controller shares (as for a refused resume, above).
        const rv = this.lastRV ?? fromRV;
        const seconds = (this.backpressure.ms / 1000).toFixed(1);
        this.mark('gap', {
          code: 410,
          resourceVersion: rv,
          message:
            `the watch stopped reading ${this.backpressure.pauses} time(s), ${seconds} s in all, because the recorder's queue was full (the disk did not keep up), ` +
            `and the API server expired it (410 Gone: ${outcome.status.message ?? 'too old resource version'}): changes after resourceVersion ${rv} until the relist that follows ` +
            'were not recorded one by one; the relist records every object as it is then, and objects deleted meanwhile as tombstones',
        });
        this.log.warn('the disk did not keep up and the API server expired the watch: relisting; changes since the last recorded resourceVersion are not recorded one by one', { rv, pausedSeconds: seconds });
      } else if (this.resumeRefused === undefined) {
        this.mark('gone', { code: 410, resourceVersion: this.lastRV ?? fromRV, message: outcome.status.message ?? 'too old resource version' });
      } else {
        this.refusedStatus = outcome.status.message;
      }
      this.log.info('watch expired (410 Gone); relisting', { rv: this.lastRV });
    } else if (outcome.kind === 'error') {
      this.counts.errors += 1;
      this.mark('error', { code: outcome.code, resourceVersion: this.lastRV, message: `${opened ? 'watch' : 'watch request'}: ${outcome.message}` });
      this.log.warn(opened ? 'watch failed' : 'watch request failed', { code: outcome.code, error: outcome.message });
    }
    if (opened) this.mark('watch-closed', { resourceVersion: this.lastRV, count: events, message: closeMessage });
    if (outcome.kind === 'stopped' || outcome.kind === 'held') return;
    this.counts.restarts += 1;
    this.options.metrics?.watchRestarts.inc({ resource: this.label, reason });
    switch (outcome.kind) {
      case 'gone':
        this.needList = true;
        // Relist at once the first time; a 410 again right after the relist means trouble: back off.
        if (lastedMs < 1000 && events === 0 && this.backoff.failures > 0) await this.sleep(this.backoff.next(this.monotonic()));
        else this.backoff.next(this.monotonic());
        return;
      case 'error':
        if (outcome.code === 404) {
          // The resource is no longer served (CRD deleted): rediscover, and relist when it is back.
          this.resolved = undefined;
          this.waitingMarked = false;
        }
        await this.failed(undefined, outcome.code, outcome.retryAfterSeconds);
        return;
      case 'inactive':
      case 'closed':
        // The reflector treats a watch that ended in under a second with no events as an error
        // ("very short watch") and backs off; a normal server timeout re-watches at once.
        if (lastedMs < 1000 && events === 0) await this.sleep(this.backoff.next(this.monotonic()));
        return;
    }
  }

  /**
   * Reads watch lines until the stream ends, fails, goes quiet or is stopped. `startMarker` (a resumed watch): its
   * watch-started is written once the stream shows the server accepted the RV — its first line is not the ERROR 410
   * (watch_cache.go sends that at once), or a second passed without one — and never when it was refused.
   */
  private consume(response: IncomingMessage, resolved: Resolved, startMarker?: MarkerRecord): Promise<{ outcome: WatchOutcome; events: number; started: boolean }> {
    return new Promise((resolve) => {
      let pendingStart = startMarker;
      let started = startMarker === undefined;
      const accept = (): MarkerRecord | undefined => {
        const marker = pendingStart;
        if (!marker) return undefined;
        pendingStart = undefined;
        started = true;
        clearTimeout(acceptTimer);
        this.resumeAccepted();
        // Dated when it was known: the records committed meanwhile (other watches) keep their order in time.
        marker.observedAt = this.observedAt();
        return marker;
      };
      const acceptTimer = pendingStart
        ? setTimeout(() => {
            if (settled) return;
            const marker = accept();
            if (marker) this.push([marker]);
          }, 1000)
        : undefined;
      // Lines are found in the bytes and decoded one at a time ('\n' never occurs inside a UTF-8 sequence): decoding
      // each chunk to a string, concatenating and slicing copied every event twice more before JSON.parse. A line
      // that spans chunks is carried as pieces and joined once, when its end arrives.
      let carried: Buffer[] = [];
      const pacer = paceReads(response.socket, this.settings.readIntervalMs);
      let events = 0;
      let settled = false;
      let paused = false;
      // Armed while reading; disarmed while paused for back-pressure (silence is then ours, not the server's).
      let inactivity: NodeJS.Timeout | undefined;
      const arm = () => {
        if (inactivity) inactivity.refresh();
        else inactivity = setTimeout(() => finish({ kind: 'inactive' }), this.settings.inactivityTimeoutMs);
      };
      const disarm = () => {
        clearTimeout(inactivity);
        inactivity = undefined;
      };
      arm();
      const finish = (outcome: WatchOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(acceptTimer);
        // A stream the server ended normally before the timer accepted the RV too; errors leave it undecided (retried).
        if (pendingStart && outcome.kind === 'closed') {
          const marker = accept();
          if (marker) this.push([marker]);
        }
        disarm();
        pacer.release();
        response.removeAllListeners('data');
        if (outcome.kind !== 'closed') response.destroy();
        resolve({ outcome, events, started });
      };
      const onLines = (chunk: Buffer, atEnd: boolean): WatchOutcome | undefined => {
        const records: SessionRecord[] = [];
        const receivedAt = this.monotonic();
        const observedAt = this.observedAt();
        let terminal: WatchOutcome | undefined;
        let start = 0;
        for (let newline = chunk.indexOf(10); newline !== -1 && !terminal; newline = chunk.indexOf(10, start)) {
          let line: string;
          if (carried.length === 0) line = chunk.toString('utf8', start, newline);
          else {
            carried.push(chunk.subarray(start, newline));
            line = Buffer.concat(carried).toString('utf8');
            carried = [];
          }
          start = newline + 1;
          terminal = this.handleLine(line, resolved, observedAt, records);
          if (!terminal && line.trim()) events += 1;
        }
        if (!terminal && start < chunk.length) carried.push(chunk.subarray(start));
        if (atEnd && !terminal && carried.length) {
          terminal = this.handleLine(Buffer.concat(carried).toString('utf8'), resolved, observedAt, records);
          carried = [];
        }
        for (const [type, n] of this.pendingEventCounts) this.eventCounters[type]?.inc(n);
        this.pendingEventCounts.clear();
        // A first line that ends the stream (ERROR 410, or another ERROR) leaves the resume undecided or refused.
        if (pendingStart && (records.length || terminal) && !(terminal && events === 0)) {
          const marker = accept();
          if (marker) records.unshift(marker);
        }
        if (records.length) {
          const pressure = this.push(records, receivedAt);
          if (pressure && !terminal && !paused) {
            // Back-pressure: stop reading; TCP pushes back to the API server. Resume when the queue has room.
            paused = true;
            pacer.release();
            response.pause();
            disarm();
            const pausedAt = this.monotonic();
            this.backpressure.pauses += 1;
            this.options.metrics?.backpressurePauses.inc({ resource: this.label });
            this.warnBackpressure();
            void this.options.sink.whenRoom().then(() => {
              const pausedMs = this.monotonic() - pausedAt;
              this.backpressure.ms += pausedMs;
              this.options.metrics?.backpressureSeconds.inc({ resource: this.label }, pausedMs / 1000);
              if (settled) return;
              paused = false;
              arm();
              response.resume();
            });
          }
        }
        return terminal;
      };
      response.on('data', (chunk: Buffer) => {
        if (settled) return;
        if (!paused) arm();
        const terminal = onLines(chunk, false);
        if (terminal) finish(terminal);
        else if (!paused) pacer.afterData();
      });
      response.on('end', () => {
        if (settled) return;
        const terminal = onLines(Buffer.alloc(0), true);
        finish(terminal ?? { kind: 'closed' });
      });
      response.on('error', (error: Error) => {
        if (this.stopping) finish({ kind: 'stopped' });
        else if (this.interrupted) finish({ kind: 'held' });
        else finish({ kind: 'error', message: `stream: ${error.message}` });
      });
      response.on('close', () => {
        if (this.stopping) finish({ kind: 'stopped' });
        else if (this.interrupted) finish({ kind: 'held' });
        // A connection cut without a clean end (API server killed, network) is a normal reason to re-watch.
        else if (!response.complete) finish({ kind: 'error', message: 'connection closed before the stream ended' });
      });
    });
  }

  /** One line of the stream. Returns a terminal outcome for ERROR events; bad lines become error markers. */
  private handleLine(line: string, resolved: Resolved, observedAt: string, out: SessionRecord[]): WatchOutcome | undefined {
    const text = line.trim();
    if (!text) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      out.push(this.streamErrorMarker(`malformed JSON line (${(error as Error).message}): ${text.slice(0, 200)}`, observedAt));
      return undefined;
    }
    // The common case checked by hand (exactly what WatchLine accepts); the schema speaks when something is off.
    const parsed = isWatchLine(json) ? { success: true as const, data: json } : WatchLine.safeParse(json);
    if (!parsed.success) {
      out.push(this.streamErrorMarker(`unexpected watch line (${parsed.error.issues[0]?.message ?? 'bad shape'}): ${text.slice(0, 200)}`, observedAt));
      return undefined;
    }
    const { type, object } = parsed.data;
    this.pendingEventCounts.set(type, (this.pendingEventCounts.get(type) ?? 0) + 1);
    if (type === 'ERROR') {
      const status = object as Status;
      // In-stream ERROR with a Status: 410 Expired/Gone means the RV is too old (apiserver cacher.go
      // newErrWatcher, watch_cache.go "too old resource version"); anything else is retried from the same RV.
      if (status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone') return { kind: 'gone', status };
      return { kind: 'error', code: status.code, message: `${status.reason ?? 'ERROR'}: ${status.message ?? JSON.stringify(status).slice(0, 200)}` };
    }
    const meta = isPlainObject(object.metadata) ? object.metadata : undefined;
    if (type === 'BOOKMARK') {
      const rv = meta?.resourceVersion;
      if (typeof rv !== 'string' || !rv) {
        out.push(this.streamErrorMarker(`BOOKMARK without a resourceVersion: ${text.slice(0, 200)}`, observedAt));
        return undefined;
      }
      this.lastRV = rv;
      this.counts.events += 1;
      out.push({
        record: 'watch',
        observedAt,
        origin: 'watch',
        group: this.options.spec.group,
        version: this.options.spec.version,
        resource: this.options.spec.resource,
        kind: resolved.kind,
        type,
        namespace: resolved.namespace,
        name: null,
        uid: null,
        resourceVersion: rv,
        generation: null,
        object: null,
      });
      return undefined;
    }
    if (!meta || !isNonEmptyString(meta.name) || !isNonEmptyString(meta.uid) || !isNonEmptyString(meta.resourceVersion)) {
      out.push(this.streamErrorMarker(`${type} event without name, uid or resourceVersion: ${text.slice(0, 200)}`, observedAt));
      return undefined;
    }
    if (object.kind && object.kind !== resolved.kind) {
      out.push(this.streamErrorMarker(`${type} event for kind ${object.kind}, expected ${resolved.kind}: skipped`, observedAt));
      return undefined;
    }
    out.push(this.watchRecord(type, 'watch', object, resolved, observedAt));
    if (type === 'DELETED') this.known.remove(meta.uid);
    else this.known.upsert(knownOf(object));
    this.lastRV = meta.resourceVersion;
    this.counts.events += 1;
    return undefined;
  }

  private watchRecord(
    type: 'ADDED' | 'MODIFIED' | 'DELETED',
    origin: 'watch' | 'relist',
    object: KubeObject,
    resolved: Resolved,
    observedAt: string,
    alreadyRedacted = false,
  ): WatchEventRecord {
    const meta = object.metadata!;
    const { spec } = this.options;
    let body = object;
    if (spec.group === '' && spec.resource === 'secrets' && (body.kind !== 'Secret' || body.apiVersion !== 'v1')) body = { ...body, apiVersion: 'v1', kind: 'Secret' };
    return {
      record: 'watch',
      observedAt,
      origin,
      group: spec.group,
      version: spec.version,
      resource: spec.resource,
      kind: resolved.kind,
      type,
      namespace: typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : null,
      name: meta.name!,
      uid: meta.uid!,
      resourceVersion: meta.resourceVersion!,
      generation: Number.isInteger(meta.generation) ? meta.generation! : null,
      object: alreadyRedacted ? body : redactObject(body, this.options.redactPaths ?? []),
    };
  }

  // ---- markers and helpers ------------------------------------------------------------------------------------

  private observedAt(): string {
    return new Date(this.now()).toISOString();
  }

  private markerBase(marker: MarkerKind, resolved: Resolved | undefined = this.resolved): MarkerRecord {
    const { spec } = this.options;
    return {
      record: 'marker',
      observedAt: this.observedAt(),
      origin: 'watch',
      marker,
      group: spec.group,
      version: spec.version,
      resource: spec.resource,
      ...(resolved ? { kind: resolved.kind } : {}),
      namespace: resolved ? resolved.namespace : spec.namespace,
    };
  }

  private markerRecord(marker: MarkerKind, fields: { code?: number | undefined; resourceVersion?: string | undefined; count?: number; message?: string }): MarkerRecord {
    const record: MarkerRecord = { ...this.markerBase(marker) };
    if (fields.code !== undefined) record.code = fields.code;
    if (fields.resourceVersion !== undefined) record.resourceVersion = fields.resourceVersion;
    if (fields.count !== undefined) record.count = fields.count;
    if (fields.message !== undefined) record.message = fields.message;
    return record;
  }

  /**
   * Says, at most every 30 s per watch, that the disk is not keeping up: the watch has stopped reading its stream
   * until the queue has room. Nothing is lost yet (the API server holds the events, TCP pushes back); if the server
   * gives up on the watch meanwhile, afterWatch writes a gap marker naming what was not recorded.
   */
  private warnBackpressure(): void {
    const now = this.monotonic();
    if (this.backpressureWarnedAt !== undefined && now - this.backpressureWarnedAt < 30_000) return;
    this.backpressureWarnedAt = now;
    this.log.warn('the disk is not keeping up: the queue is full and this watch stops reading until it has room', {
      pauses: this.backpressure.pauses,
      rv: this.lastRV,
    });
  }

  private mark(marker: MarkerKind, fields: { code?: number | undefined; resourceVersion?: string | undefined; count?: number; message?: string }): void {
    this.push([this.markerRecord(marker, fields)]);
  }

  /** Everything this watch records goes through here: its committed events and lists move its resume point. */
  private push(records: readonly SessionRecord[], receivedAt?: number): boolean {
    return this.options.sink.push(records, receivedAt, this.checkpoint);
  }

  private streamErrorMarker(message: string, observedAt: string): MarkerRecord {
    this.options.metrics?.streamErrors.inc({ resource: this.label });
    this.log.warn('unusable watch line skipped', { detail: message.slice(0, 200) });
    return { ...this.markerBase('error'), observedAt, message };
  }

  private streamError(message: string): void {
    this.push([this.streamErrorMarker(message, this.observedAt())]);
  }

  /** Records a failed request (when a message is given) and backs off, honouring Retry-After. */
  private async failed(message: string | undefined, code: number | undefined, retryAfterSeconds?: number): Promise<void> {
    if (message !== undefined) {
      this.counts.errors += 1;
      this.mark('error', { code, message });
      this.log.warn('request failed', { code, error: message });
    }
    const delay = Math.max(this.backoff.next(this.monotonic()), (retryAfterSeconds ?? 0) * 1000);
    await this.sleep(delay);
  }

  private async sleep(ms: number): Promise<void> {
    if (this.stopping) return;
    const previous = this.phaseValue;
    this.phaseValue = 'backing-off';
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.signal.addEventListener('abort', done, { once: true });
    });
    if (this.phaseValue === 'backing-off') this.phaseValue = previous;
  }
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function knownOf(object: KubeObject): KnownObject {
  const meta = object.metadata!;
  return { uid: meta.uid!, name: meta.name!, namespace: meta.namespace ?? null, resourceVersion: meta.resourceVersion!, generation: meta.generation ?? null };
}

export function describeSpec(spec: WatchSpec): string {
  const gvr = `${apiVersionOf(spec.group, spec.version)}/${spec.resource}`;
  return spec.namespace === null ? gvr : `${gvr}@${spec.namespace}`;
}
