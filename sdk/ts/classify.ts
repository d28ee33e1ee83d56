import type { ErrorReason } from '../../model/index.js';

/**
 * Classifies an error from a Kubernetes API call the way controller authors branch on it, without importing
 * @kubernetes/client-node: its 1.x `ApiException` carries `code` (the HTTP status) and `body` (the Status object as
 * JSON text); 0.x's `HttpError` carried `statusCode` and a parsed `body`. The Status reason wins over the code
 * (a 409 is AlreadyExists or Conflict depending on it), as in apimachinery's `ReasonForError`.
 */

export interface ApiErrorInfo {
  /** HTTP status, when the error came with a response. */
  readonly code: number | null;
  readonly reason: ErrorReason;
  /** The Status reason as the server sent it (`NotFound`, `Expired`, ...), when it sent one. */
  readonly statusReason: string | null;
  /** The Status message, or the error's own message (first line, no headers). */
  readonly message: string;
}

const reasons: Record<string, ErrorReason> = {
  NotFound: 'NotFound',
  Conflict: 'Conflict',
  AlreadyExists: 'AlreadyExists',
  Timeout: 'Timeout',
  ServerTimeout: 'Timeout',
  Forbidden: 'Forbidden',
  Invalid: 'Invalid',
};

const byCode: Record<number, ErrorReason> = { 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 422: 'Invalid', 504: 'Timeout' };

const timeoutErrorCodes = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT']);

export function classifyApiError(error: unknown): ApiErrorInfo {
  const e = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const code = typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : null;
  const status = statusOf(e.body);
  const statusReason = typeof status?.reason === 'string' && status.reason ? status.reason : null;
  let reason: ErrorReason = (statusReason && reasons[statusReason]) || (code !== null && byCode[code]) || 'other';
  if (reason === 'other' && (e.name === 'TimeoutError' || (typeof e.code === 'string' && timeoutErrorCodes.has(e.code)))) reason = 'Timeout';
  const message = typeof status?.message === 'string' && status.message ? status.message : firstLine(error);
  return { code, reason, statusReason, message };
}

/** Just the reason: NotFound | Conflict | AlreadyExists | Timeout | Forbidden | Invalid | other. */
export function errorReasonOf(error: unknown): ErrorReason {
  return classifyApiError(error).reason;
}

function statusOf(body: unknown): Record<string, unknown> | undefined {
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body as Record<string, unknown>;
  if (typeof body !== 'string' || !body.trimStart().startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function firstLine(error: unknown): string {
  let text: string;
  try {
    text = error instanceof Error ? error.message : String(error);
  } catch {
    text = 'unprintable error';
  }
  // ApiException's message is "HTTP-Code: 409\nMessage: ...\nBody: ...\nHeaders: ...": keep the first line.
  const newline = text.indexOf('\n');
  return newline === -1 ? text : text.slice(0, newline);
}
