import {
  defaultIngestPath,
  envToken,
  envUrl,
  type ApiRequestReport,
  type DeliveryReport,
  type ReconcileContext,
  type ReconcileFunction,
  type ReconcileOutcome,
  type ReconcileReport,
  type ReconcileRequest,
  type ReconcileStartReport,
  type Reporter,
  type ReporterOptions,
  type ReporterStats,
  type WrapReconcileOptions,
} from './api.js';
import { IngestSender, zeroStats } from './ingest-sender.js';
import { apiRequestRecord, deliveryRecord, reconcileRecord, reconcileStartRecord, type WireRecord } from './wire-records.js';

export { envToken, envUrl } from './api.js';
export type * from './api.js';

/**
 * The TypeScript reporting SDK: a controller written with @kubernetes/client-node reports its reconcile outcomes,
 * informer deliveries and API requests to the kreplay recorder (POST /v1/records, recorder/ingest-server.ts).
 *
 * Same contract as the Go SDK (sdk/go): reporting never blocks, never throws and never rejects. report*() appends
 * to a bounded in-memory queue; a single sender posts NDJSON batches of at most `batchSize` records, at most
 * `flushIntervalMs` (≤ 250 ms) after the first record of a batch. When the recorder is slow or down, records beyond
 * `bufferSize` are dropped and counted. With no URL configured the reporter is disabled and every call is a no-op.
 */

export function createReporter(options: ReporterOptions = {}): Reporter {
  const raw = options.url ?? process.env[envUrl] ?? '';
  const log = options.log ?? ((message, fields) => console.warn(`kreplay: ${message}`, fields ?? ''));
  if (!raw) {
    // Said once, at start: a deployment wired with the wrong variable must not look like "no findings".
    log(`reporting is off: no ingest URL (set ${envUrl}, e.g. http://127.0.0.1:9477)`);
    return disabledReporter;
  }
  let endpoint: URL;
  try {
    endpoint = ingestUrl(raw);
  } catch (error) {
    log('invalid ingest URL: reporting disabled', { url: raw, error: (error as Error).message });
    return disabledReporter;
  }
  const token = options.token ?? process.env[envToken] ?? '';
  log('reporting is on', { url: endpoint.href, token: token !== '' });
  return new HttpReporter(endpoint, token, options, log);
}

export function ingestUrl(raw: string): URL {
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${raw} is not an http(s) URL`);
  if (url.pathname === '' || url.pathname === '/') url.pathname = defaultIngestPath;
  return url;
}

const disabledReporter: Reporter = {
  enabled: false,
  reportReconcile: () => undefined,
  reportReconcileStart: () => undefined,
  reportDelivery: () => undefined,
  reportApiRequest: () => undefined,
  wrapReconcile: (_options, fn) => (request) => fn(request, { observe: () => undefined }),
  stats: zeroStats,
  close: () => Promise.resolve(zeroStats()),
};

/** Reports built into wire records (wire-records.ts) and handed to the sender (ingest-sender.ts). */
class HttpReporter implements Reporter {
  readonly enabled = true;
  private readonly sender: IngestSender;

  constructor(url: URL, token: string, options: ReporterOptions, log: (message: string, fields?: Record<string, unknown>) => void) {
    this.sender = new IngestSender(url, token, options, log);
  }

  reportReconcile(report: ReconcileReport): void {
    this.guard('reconcile', () => reconcileRecord(report));
  }

  reportReconcileStart(report: ReconcileStartReport): void {
    if (this.sender.startsOff) return;
    this.guard('reconcile-start', () => reconcileStartRecord(report));
  }

  reportDelivery(report: DeliveryReport): void {
    this.guard('delivery', () => deliveryRecord(report));
  }

  reportApiRequest(report: ApiRequestReport): void {
    this.guard('api', () => apiRequestRecord(report));
  }

  wrapReconcile(options: WrapReconcileOptions, fn: ReconcileFunction): (request: ReconcileRequest) => Promise<ReconcileOutcome | void> {
    return async (request) => {
      const startedMs = Date.now();
      const t0 = performance.now();
      let observed: { resourceVersion?: string; generation?: number; uid?: string } | undefined;
      const context: ReconcileContext = {
        observe: (object) => {
          observed = object?.metadata ?? undefined;
        },
      };
      const report = (outcome: ReconcileOutcome | void, error: unknown): void => {
        this.reportReconcile({
          controller: options.controller,
          object: {
            group: options.group,
            version: options.version,
            kind: options.kind,
            ...(options.resource ? { resource: options.resource } : {}),
            namespace: request.namespace,
            name: request.name,
            uid: observed?.uid ?? null,
          },
          // Finished from the monotonic clock: a wall-clock step cannot put it before the start.
          startedAt: startedMs,
          finishedAt: startedMs + (performance.now() - t0),
          observedResourceVersion: observed?.resourceVersion ?? null,
          observedGeneration: observed?.generation ?? null,
          outcome,
          error,
        });
      };
      let outcome: ReconcileOutcome | void;
      // Reported as the call begins, so one that never settles still shows. What the function will observe is not
      // known yet: the start names the key only.
      this.reportReconcileStart({
        controller: options.controller,
        object: { group: options.group, version: options.version, kind: options.kind, ...(options.resource ? { resource: options.resource } : {}), namespace: request.namespace, name: request.name },
        startedAt: startedMs,
      });
      try {
        outcome = await fn(request, context);
      } catch (error) {
        report(undefined, error ?? new Error('reconcile threw a nullish value'));
        throw error;
      }
      report(outcome, undefined);
      return outcome;
    };
  }

  stats(): ReporterStats {
    return this.sender.stats();
  }

  close(options: { timeoutMs?: number } = {}): Promise<ReporterStats> {
    return this.sender.close(options);
  }

  /** Runs `build` (which may throw on strange input: reporting must not) and queues its record. */
  private guard(kind: string, build: () => WireRecord | undefined): void {
    let record: WireRecord | undefined;
    try {
      record = build();
    } catch {
      record = undefined;
    }
    if (record) this.sender.offer(record);
    else this.sender.reject(kind);
  }
}
