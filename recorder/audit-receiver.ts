import type { ApiRequestRecord, WatchEventRecord } from '../model/index.js';
import { createAuditParser } from '../importers/audit.js';
import type { ImportParser, ParseEvent } from '../importers/parser.js';
import type { ResourceSpec } from './config.js';
import { recorderUserAgent } from './kube-client.js';
import { BatchAuditIds, type RecentAuditIds } from './recent-audit-ids.js';

/**
 * Turns one audit webhook POST body (an audit.k8s.io/v1 EventList) into `api` records. The conversion itself is the
 * importer's (importers/audit.ts: ResponseComplete/Panic only, writes plus failed reads, dry-runs skipped), so an
 * audit log imported later and the same events received live give the same records. The recorder adds:
 *
 * - scope: with `audit.scope: watched`, only writes to the recorded resources (in the recorded namespaces) and every
 *   request of the controller are kept — the API server sends the whole cluster's traffic;
 * - kinds from discovery, which beats the importer's guesses for CRDs;
 * - byController for every configured identity (username and service account);
 * - the recorder's own requests (User-Agent kreplay-recorder/...) are left out: a sidecar shares the controller's
 *   service account, so only the User-Agent tells them apart;
 * - object versions from audit (the importer's `watch` records, origin audit) only for objects no watch of this
 *   recorder covers: a watch already records every version of its objects, in the server's own order. For the rest
 *   (an audit-webhook-only recorder, `scope: all`) the response bodies are the only versions there are, and a
 *   session without them cannot show a finalizer that holds or a status written from an old spec.
 */
export interface AuditReceiverOptions {
  readonly scope: 'watched' | 'all';
  readonly resources: readonly ResourceSpec[];
  readonly controllerUsernames: readonly string[];
  /** Kinds learned from discovery, by `group/resource`. */
  readonly kindOf?: (group: string, resource: string) => string | undefined;
}

export interface AuditBatch {
  /** `api` records, each followed by the version its answer carried when no watch covers the object. */
  readonly records: (ApiRequestRecord | WatchEventRecord)[];
  /** Problems with individual events (bad shape); the rest of the batch is still recorded. */
  readonly problems: string[];
  /** Events read and deliberately not recorded, by reason. */
  readonly skipped: Record<string, number>;
  readonly outOfScope: number;
}

export function convertAuditBody(body: string, options: AuditReceiverOptions, answered?: RecentAuditIds): AuditBatch {
  const converter = new AuditBodyConverter(options, answered);
  converter.push(body);
  return converter.end();
}

/**
 * The same conversion fed chunk by chunk, so the webhook never holds a whole body as text: the audit parser streams an
 * EventList item by item (importers/json-splitter.ts), and only the records made so far are kept.
 */
export class AuditBodyConverter {
  private readonly parser: ImportParser;
  private readonly records: (ApiRequestRecord | WatchEventRecord)[] = [];
  private readonly problems: string[] = [];
  private outOfScope = 0;
  private own = 0;
  private values = 0;
  /** The importer emits an answer's version right after its api record: it goes where that record went. */
  private lastKept = false;
  /** The first place the body is not an audit EventList at all (broken JSON, another kind of object). */
  malformed: { line: number; problem: string } | undefined;

  /** This batch's auditIDs, seen against those of batches already answered (`answered`), so a re-sent batch is skipped. */
  readonly auditIds: Set<string>;

  constructor(
    private readonly options: AuditReceiverOptions,
    answered?: RecentAuditIds,
  ) {
    this.auditIds = answered ? new BatchAuditIds(answered) : new Set<string>();
    this.parser = createAuditParser({ ...(options.controllerUsernames[0] ? { controller: options.controllerUsernames[0] } : {}), seenAuditIds: this.auditIds });
  }

  /** Records kept so far: the caller caps a batch by it. */
  get recordCount(): number {
    return this.records.length;
  }

  push(chunk: string): void {
    this.take(this.parser.push(chunk));
  }

  end(): AuditBatch {
    this.take(this.parser.end());
    const skipped: Record<string, number> = { ...this.parser.skipped() };
    if (this.own) skipped["the recorder's own requests"] = this.own;
    const values = this.values + Object.values(skipped).reduce((a, b) => a + b, 0);
    if (!this.malformed && values === 0) this.malformed = { line: 1, problem: 'the body holds no audit event: expected an audit.k8s.io/v1 EventList' };
    return { records: this.records, problems: this.problems, skipped, outOfScope: this.outOfScope };
  }

  private take(events: readonly ParseEvent[]): void {
    const { options, records } = this;
    for (const event of events) {
      this.values += 1;
      if (event.kind === 'problem') {
        if (event.malformed) this.malformed ??= { line: event.line, problem: event.problem };
        this.problems.push(`line ${event.line}: ${event.problem}`);
        continue;
      }
      if (event.record.record === 'watch') {
        const version = event.record;
        if (this.lastKept && !isWatched({ group: version.group, resource: version.resource, namespace: version.namespace }, options.resources)) records.push(version);
        this.lastKept = false;
        continue;
      }
      this.lastKept = false;
      if (event.record.record !== 'api') continue;
      const api = event.record;
      if (api.userAgent?.startsWith(`${recorderUserAgent}/`)) {
        this.own += 1;
        continue;
      }
      const byController = options.controllerUsernames.includes(api.actor);
      if (options.scope === 'watched' && !byController && !isWatched(api.object, options.resources)) {
        this.outOfScope += 1;
        continue;
      }
      const kind = options.kindOf?.(api.object.group, api.object.resource ?? '') ?? api.object.kind;
      records.push({ ...api, byController, object: { ...api.object, kind } });
      this.lastKept = true;
    }
  }
}

function isWatched(object: { group: string; resource?: string | null | undefined; namespace: string | null }, resources: readonly ResourceSpec[]): boolean {
  return resources.some(
    (r) =>
      r.group === object.group &&
      r.resource === object.resource &&
      (r.namespaces === null || object.namespace === null || r.namespaces.includes(object.namespace)),
  );
}
