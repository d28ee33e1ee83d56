import type { KubeObject } from './records.js';

/**
 * Secret values never reach a session: not from a watch, an import, an audit log or an SDK report.
 * `data` and `stringData` of core/v1 Secrets are replaced by a marker that keeps the keys and sizes (useful when
 * debugging "the controller wrote an empty key") but not the bytes. Extra paths (dotted, e.g.
 * `spec.credentials.password`) can be redacted on any kind.
 */
export const REDACTED = '<redacted>';

export function isSecret(object: KubeObject | null | undefined): boolean {
  return object?.kind === 'Secret' && (object.apiVersion === 'v1' || object.apiVersion === undefined);
}

/** True for a value this module already wrote: redacting twice must not change a session (re-imported exports). */
function isRedacted(value: unknown): boolean {
  return typeof value === 'string' && value.startsWith(REDACTED);
}

function redactValues(values: unknown): unknown {
  if (values === null || typeof values !== 'object' || Array.isArray(values)) return isRedacted(values) ? values : REDACTED;
  return Object.fromEntries(
    Object.entries(values as Record<string, unknown>).map(([key, value]) => [
      key,
      isRedacted(value) ? value : `${REDACTED} ${typeof value === 'string' ? value.length : 0} chars`,
    ]),
  );
}

/** Returns a copy with secret data and the extra paths redacted; objects that need nothing are returned as is. */
export function redactObject<T extends KubeObject | null | undefined>(object: T, extraPaths: readonly string[] = []): T {
  if (!object || typeof object !== 'object') return object;
  let result: Record<string, unknown> = object;
  if (isSecret(object)) {
    result = { ...object };
    if ('data' in result) result.data = redactValues(result.data);
    if ('stringData' in result) result.stringData = redactValues(result.stringData);
    // kubectl apply keeps the whole Secret, data included, in this annotation.
    const annotations = (object.metadata as { annotations?: Record<string, string> } | undefined)?.annotations;
    if (annotations?.['kubectl.kubernetes.io/last-applied-configuration']) {
      result.metadata = { ...object.metadata, annotations: { ...annotations, 'kubectl.kubernetes.io/last-applied-configuration': REDACTED } };
    }
  }
  for (const path of extraPaths) result = redactPath(result, path.split('.').filter(Boolean), 0);
  return result as T;
}

function redactPath(node: Record<string, unknown>, parts: readonly string[], index: number): Record<string, unknown> {
  const key = parts[index];
  if (key === undefined || !(key in node)) return node;
  if (index === parts.length - 1) return { ...node, [key]: REDACTED };
  const child = node[key];
  if (child === null || typeof child !== 'object' || Array.isArray(child)) return node;
  return { ...node, [key]: redactPath(child as Record<string, unknown>, parts, index + 1) };
}
