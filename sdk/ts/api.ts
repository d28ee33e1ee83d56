import type { ApiVerb, DeliveryHandler } from '../../model/index.js';

/**
 * The reporting SDK's public types: what a controller passes to the reporter (sdk/ts/reporter.ts).
 */

export const envUrl = 'KREPLAY_INGEST_URL';
export const envToken = 'KREPLAY_INGEST_TOKEN';
/** The recorder's ingest path, used when the URL names none. */
export const defaultIngestPath = '/v1/records';

export interface ReporterOptions {
  /** The recorder's ingest endpoint. Default $KREPLAY_INGEST_URL; the path defaults to /v1/records. */
  readonly url?: string | undefined;
  /** Sent as `Authorization: Bearer <token>`. Default $KREPLAY_INGEST_TOKEN. */
  readonly token?: string | undefined;
  /** Records held while the recorder is slow or down; beyond it they are dropped and counted. Default 4096. */
  readonly bufferSize?: number;
  /** Most records per request. Default 500. */
  readonly batchSize?: number;
  /** Longest a record waits before its batch is sent. Default 200, at most 250. */
  readonly flushIntervalMs?: number;
  /** Per-request timeout. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** Where the reporter's few messages go (an outage starting and ending, a refusal, once per status). */
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
  /**
   * wrapReconcile reports a `reconcile-start` when each call begins, so a call that never returns still shows
   * (hung-reconcile). Default true; false halves the records of a busy controller. A recorder too old to know them
   * refuses the first one, and the reporter then stops sending them by itself.
   */
  readonly reconcileStarts?: boolean;
}

export interface ReporterStats {
  /** Accepted by the recorder. */
  sent: number;
  /** Never reached it: buffer full, reported after close(), or unsent when close() gave up. */
  dropped: number;
  /** Refused by the recorder (4xx), or invalid (no object name or kind). */
  rejected: number;
}

/** An object reference as callers have it: namespace may be left out for cluster-scoped objects. */
export interface ObjectRefInput {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string | null | undefined;
  readonly resource?: string | undefined;
  readonly uid?: string | null | undefined;
}

/** What a reconcile function may return: nothing (success), a requeue, or a delayed requeue. */
export interface ReconcileOutcome {
  readonly requeue?: boolean;
  readonly requeueAfterMs?: number;
}

export interface ReconcileReport {
  readonly controller: string;
  readonly object: ObjectRefInput;
  readonly startedAt: Date | number;
  readonly finishedAt: Date | number;
  readonly observedResourceVersion?: string | null;
  readonly observedGeneration?: number | null;
  /** What the reconcile returned; ignored when `error` is set. */
  readonly outcome?: ReconcileOutcome | void;
  /** What it threw: classified into errorReason (ApiException codes: 404 NotFound, 409 Conflict, ...). */
  readonly error?: unknown;
}

export interface ReconcileStartReport {
  readonly controller: string;
  readonly object: ObjectRefInput;
  readonly startedAt: Date | number;
  readonly observedResourceVersion?: string | null;
  readonly observedGeneration?: number | null;
}

export interface DeliveryReport {
  readonly controller: string;
  readonly handler: DeliveryHandler;
  readonly object: ObjectRefInput;
  readonly resourceVersion: string | null | undefined;
  /** update only: equal to resourceVersion on an informer resync. */
  readonly oldResourceVersion?: string | null;
  /** A delete learned from a relist rather than a watch event. */
  readonly tombstone?: boolean;
  readonly at?: Date | number;
}

export interface ApiRequestReport {
  /** Who made the request (the controller's name or its user). */
  readonly actor: string;
  readonly verb: ApiVerb;
  readonly object: ObjectRefInput;
  readonly subresource?: string | null;
  /** HTTP status; leave it out and pass `error` to have it taken from an ApiException (0 without a response). */
  readonly code?: number;
  readonly error?: unknown;
  readonly resourceVersionBefore?: string | null;
  readonly resourceVersionAfter?: string | null;
  readonly userAgent?: string | null;
  readonly at?: Date | number;
}

/** The request a wrapped reconcile function receives: the workqueue key, split. */
export interface ReconcileRequest {
  readonly namespace: string | null;
  readonly name: string;
}

export interface ReconcileContext {
  /** Tell the reporter which version of the object this reconcile read (its metadata). Optional. */
  observe(object: { metadata?: { resourceVersion?: string; generation?: number; uid?: string } | undefined } | null | undefined): void;
}

export interface WrapReconcileOptions {
  readonly controller: string;
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly resource?: string;
}

export type ReconcileFunction = (request: ReconcileRequest, context: ReconcileContext) => Promise<ReconcileOutcome | void>;

export interface Reporter {
  /** False when no URL is configured: every method is then a no-op. */
  readonly enabled: boolean;
  reportReconcile(report: ReconcileReport): void;
  /** A reconcile has begun (wrapReconcile does it); its finish is the reconcile report with the same startedAt. */
  reportReconcileStart(report: ReconcileStartReport): void;
  reportDelivery(report: DeliveryReport): void;
  reportApiRequest(report: ApiRequestReport): void;
  /**
   * Wraps a reconcile function: times each call and reports its outcome (success | requeue | requeue-after |
   * error with its reason). What fn returns or throws is passed through unchanged.
   */
  wrapReconcile(options: WrapReconcileOptions, fn: ReconcileFunction): (request: ReconcileRequest) => Promise<ReconcileOutcome | void>;
  stats(): ReporterStats;
  /**
   * Stops accepting records and sends what is queued, for at most `timeoutMs` (default 5 s); what is still unsent
   * then is counted as dropped. Never rejects.
   */
  close(options?: { timeoutMs?: number }): Promise<ReporterStats>;
}
