import type { ApiRequestRecord } from '../model/index.js';
import { createAuditParser } from '../importers/audit.js';
import type { ResourceSpec } from './config.js';
import { recorderUserAgent } from './kube-client.js';

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
 * - no object versions from audit: the watch already records every version, with the server's own ordering, so the
 *   importer's `watch` records (origin audit) are left out.
 */
export interface AuditReceiverOptions {
  readonly scope: 'watched' | 'all';
  readonly resources: readonly ResourceSpec[];
  readonly controllerUsernames: readonly string[];
  /** Kinds learned from discovery, by `group/resource`. */
  readonly kindOf?: (group: string, resource: string) => string | undefined;
}

export interface AuditBatch {
  readonly records: ApiRequestRecord[];
  /** Problems with individual events (bad shape); the rest of the batch is still recorded. */
  readonly problems: string[];
  /** Events read and deliberately not recorded, by reason. */
  readonly skipped: Record<string, number>;
  readonly outOfScope: number;
}

export function convertAuditBody(body: string, options: AuditReceiverOptions): AuditBatch {
  const parser = createAuditParser(options.controllerUsernames[0] ? { controller: options.controllerUsernames[0] } : {});
  const events = [...parser.push(body), ...parser.end()];
  const records: ApiRequestRecord[] = [];
  const problems: string[] = [];
  let outOfScope = 0;
  let own = 0;
  for (const event of events) {
    if (event.kind === 'problem') {
      problems.push(`line ${event.line}: ${event.problem}`);
      continue;
    }
    if (event.record.record !== 'api') continue;
    const api = event.record;
    if (api.userAgent?.startsWith(`${recorderUserAgent}/`)) {
      own += 1;
      continue;
    }
    const byController = options.controllerUsernames.includes(api.actor);
    if (options.scope === 'watched' && !byController && !isWatched(api, options.resources)) {
      outOfScope += 1;
      continue;
    }
    const kind = options.kindOf?.(api.object.group, api.object.resource ?? '') ?? api.object.kind;
    records.push({ ...api, byController, object: { ...api.object, kind } });
  }
  const skipped: Record<string, number> = { ...parser.skipped() };
  if (own) skipped["the recorder's own requests"] = own;
  return { records, problems, skipped, outOfScope };
}

function isWatched(api: ApiRequestRecord, resources: readonly ResourceSpec[]): boolean {
  return resources.some(
    (r) =>
      r.group === api.object.group &&
      r.resource === api.object.resource &&
      (r.namespaces === null || api.object.namespace === null || r.namespaces.includes(api.object.namespace)),
  );
}
