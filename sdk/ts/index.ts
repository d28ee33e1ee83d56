export { createReporter, ingestUrl, envToken, envUrl } from './reporter.js';
export type {
  ApiRequestReport,
  DeliveryReport,
  ObjectRefInput,
  ReconcileContext,
  ReconcileFunction,
  ReconcileOutcome,
  ReconcileReport,
  ReconcileRequest,
  Reporter,
  ReporterOptions,
  ReporterStats,
  WrapReconcileOptions,
} from './api.js';
export { classifyApiError, errorReasonOf, type ApiErrorInfo } from './classify.js';
