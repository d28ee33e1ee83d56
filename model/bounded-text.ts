import { z } from 'zod';

/**
 * Strings a record carries besides names (controller names, users, reasons, messages): bounded, and free of what no
 * Kubernetes component sends and what a terminal would act on: NUL and the other C0 controls, DEL, the C1 controls,
 * and lone UTF-16 surrogates (Go's JSON encoder replaces invalid UTF-8 with U+FFFD, so the API server never sends
 * one). Free text (messages) may hold tabs and line breaks: Go error messages do.
 *
 * The bounds are the API's own where it documents one: a condition's reason is at most 1024 characters and its
 * message at most 32768 (metav1.Condition, k8s.io/apimachinery/pkg/apis/meta/v1/types.go); identities (user names,
 * controller names, user agents) take the reason's 1024.
 */
export const maxIdentifierLength = 1024;
export const maxReasonLength = 1024;
export const maxMessageLength = 32768;
/** uids, resourceVersions, auditIDs: UUIDs and decimal numbers in practice; a name's bound is plenty. */
export const maxTokenLength = 253;

function describeCodeUnit(code: number): string {
  const hex = code.toString(16).toUpperCase().padStart(4, '0');
  if (code === 0) return 'a NUL character (U+0000)';
  if (code >= 0xd800 && code <= 0xdfff) return `a lone surrogate (U+${hex})`;
  return `a control character (U+${hex})`;
}

export const plainText = {
  /** The first character no Kubernetes string holds, described for an error message; undefined when there is none. */
  firstBadCharacter(value: string, allowLineBreaks: boolean): string | undefined {
    for (let i = 0; i < value.length; i += 1) {
      const code = value.charCodeAt(i);
      if (code >= 0x20 && code < 0x7f) continue;
      if (code < 0x20) {
        if (allowLineBreaks && (code === 0x09 || code === 0x0a || code === 0x0d)) continue;
        return describeCodeUnit(code);
      }
      if (code >= 0x7f && code <= 0x9f) return describeCodeUnit(code);
      if (code >= 0xd800 && code <= 0xdbff) {
        const next = value.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          i += 1;
          continue;
        }
        return describeCodeUnit(code);
      }
      if (code >= 0xdc00 && code <= 0xdfff) return describeCodeUnit(code);
    }
    return undefined;
  },
};

/** A bounded single-line string: `what` names it in the error ("a controller name is at most 1024 characters"). */
export function boundedText(what: string, max: number, options: { min?: number; lineBreaks?: boolean } = {}) {
  const min = options.min ?? 0;
  return z.string().superRefine((value, ctx) => {
    if (value.length < min) ctx.addIssue({ code: 'custom', message: `${what} cannot be empty` });
    else if (value.length > max) ctx.addIssue({ code: 'custom', message: `${what} is at most ${max} characters (got ${value.length})` });
    else {
      const bad = plainText.firstBadCharacter(value, options.lineBreaks ?? false);
      if (bad) ctx.addIssue({ code: 'custom', message: `${what} may not contain ${bad}` });
    }
  });
}
