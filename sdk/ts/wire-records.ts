import type { ApiRequestRecord, DeliveryRecord, ObjectRef, ReconcileRecord, ReconcileStartRecord } from '../../model/index.js';
import type { ApiRequestReport, DeliveryReport, ObjectRefInput, ReconcileReport, ReconcileStartReport } from './api.js';
import { classifyApiError } from './classify.js';

/**
 * What a report becomes on the wire: the recorder's own record shapes (model/records.ts), built from what a caller
 * has. Each builder returns undefined for a report the recorder would refuse, and may throw on strange input (the
 * reporter catches it: reporting never throws).
 */
export type WireRecord = ReconcileRecord | ReconcileStartRecord | DeliveryRecord | ApiRequestRecord;

const maxMessageLength = 2048;

export function reconcileRecord(report: ReconcileReport): WireRecord | undefined {
  const startedMs = toMs(report.startedAt);
  const finishedMs = Math.max(startedMs, toMs(report.finishedAt));
  const record: ReconcileRecord = {
    record: 'reconcile',
    observedAt: iso(finishedMs),
    origin: 'ingest',
    controller: report.controller,
    object: objectRef(report.object),
    startedAt: iso(startedMs),
    finishedAt: iso(finishedMs),
    result: 'success',
  };
  if (report.observedResourceVersion) record.observedResourceVersion = report.observedResourceVersion;
  if (Number.isInteger(report.observedGeneration)) record.observedGeneration = report.observedGeneration!;
  if (report.error !== undefined) {
    // As in controller-runtime, a reconcile that failed has no other result.
    const info = classifyApiError(report.error);
    record.result = 'error';
    record.errorReason = info.reason;
    record.errorMessage = truncate(info.message);
  } else if (report.outcome && (report.outcome.requeueAfterMs ?? 0) > 0) {
    record.result = 'requeue-after';
    record.requeueAfterMs = Math.ceil(report.outcome.requeueAfterMs!);
  } else if (report.outcome?.requeue) {
    record.result = 'requeue';
  }
  return valid(record.controller, record.object) ? record : undefined;
}

export function reconcileStartRecord(report: ReconcileStartReport): WireRecord | undefined {
  const startedMs = toMs(report.startedAt);
  const record: ReconcileStartRecord = {
    record: 'reconcile-start',
    observedAt: iso(startedMs),
    origin: 'ingest',
    controller: report.controller,
    object: objectRef(report.object),
    startedAt: iso(startedMs),
  };
  if (report.observedResourceVersion) record.observedResourceVersion = report.observedResourceVersion;
  if (Number.isInteger(report.observedGeneration)) record.observedGeneration = report.observedGeneration!;
  return valid(record.controller, record.object) ? record : undefined;
}

export function deliveryRecord(report: DeliveryReport): WireRecord | undefined {
  const record: DeliveryRecord = {
    record: 'delivery',
    observedAt: iso(report.at === undefined ? Date.now() : toMs(report.at)),
    origin: 'ingest',
    controller: report.controller,
    handler: report.handler,
    tombstone: report.tombstone === true,
    object: objectRef(report.object),
    resourceVersion: report.resourceVersion || null,
  };
  if (report.handler === 'update' && report.oldResourceVersion) record.oldResourceVersion = report.oldResourceVersion;
  const knownHandler = report.handler === 'add' || report.handler === 'update' || report.handler === 'delete';
  return knownHandler && valid(record.controller, record.object) ? record : undefined;
}

export function apiRequestRecord(report: ApiRequestReport): WireRecord | undefined {
  const record: ApiRequestRecord = {
    record: 'api',
    observedAt: iso(report.at === undefined ? Date.now() : toMs(report.at)),
    origin: 'ingest',
    actor: report.actor,
    byController: true,
    verb: report.verb,
    object: objectRef(report.object),
    code: report.code ?? 0,
  };
  if (report.error !== undefined) {
    const info = classifyApiError(report.error);
    record.code = report.code ?? info.code ?? 0;
    if (info.statusReason) record.reason = info.statusReason;
    record.message = truncate(info.message);
  }
  if (report.subresource) record.subresource = report.subresource;
  if (report.userAgent) record.userAgent = report.userAgent;
  if (report.resourceVersionBefore) record.resourceVersionBefore = report.resourceVersionBefore;
  if (report.resourceVersionAfter) record.resourceVersionAfter = report.resourceVersionAfter;
  return Number.isInteger(record.code) && valid(record.actor, record.object) ? record : undefined;
}

function toMs(value: Date | number): number {
  return typeof value === 'number' ? value : value.getTime();
}

/** RFC 3339 in UTC with milliseconds; fractional input ms are truncated. */
function iso(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}

function objectRef(input: ObjectRefInput): ObjectRef {
  const ref: ObjectRef = {
    group: input.group ?? '',
    version: input.version,
    kind: input.kind,
    namespace: input.namespace || null,
    name: input.name,
  };
  if (input.resource) ref.resource = input.resource;
  if (input.uid) ref.uid = input.uid;
  return ref;
}

/** The checks the recorder would refuse a record for; the rest holds by construction. */
function valid(who: string, object: ObjectRef): boolean {
  return typeof who === 'string' && who.length > 0 && !!object.version && !!object.kind && !!object.name && typeof object.group === 'string';
}

function truncate(text: string): string {
  return text.length <= maxMessageLength ? text : `${text.slice(0, maxMessageLength)}…`;
}
