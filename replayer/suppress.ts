import { parseSuppressAnnotation, type Suppression } from '../model/check-config.js';
import type { Finding } from '../model/index.js';
import { globMatch } from './glob.js';

/** The config suppression that matches a finding, if any. Every given selector must match. */
export function matchSuppression(finding: Finding, rules: readonly Suppression[]): Suppression | undefined {
  for (const rule of rules) {
    if (rule.finding !== undefined) {
      const kinds = Array.isArray(rule.finding) ? rule.finding : [rule.finding];
      if (!kinds.includes(finding.kind)) continue;
    }
    if (rule.kind !== undefined && rule.kind !== finding.object.kind) continue;
    if (rule.namespace !== undefined && !globMatch(rule.namespace, finding.object.namespace ?? '')) continue;
    if (rule.name !== undefined && !globMatch(rule.name, finding.object.name)) continue;
    if (rule.uid !== undefined && rule.uid !== finding.object.uid) continue;
    return rule;
  }
  return undefined;
}

/**
 * Marks suppressed findings (they stay in the report, with the reason) from the config and from the object's
 * `kreplay.dev/suppress: "<kind>[,<kind>]: <reason>"` annotation. Returns problems with malformed annotations.
 */
export function applySuppressions(findings: Finding[], rules: readonly Suppression[], annotationOf: (finding: Finding) => string | undefined): string[] {
  const problems: string[] = [];
  const reported = new Set<string>();
  for (const finding of findings) {
    const rule = matchSuppression(finding, rules);
    if (rule) {
      finding.suppressed = { reason: rule.reason };
      continue;
    }
    const annotation = annotationOf(finding);
    if (annotation === undefined) continue;
    const parsed = parseSuppressAnnotation(annotation);
    if ('error' in parsed) {
      const where = `${finding.object.kind} ${finding.object.namespace ? `${finding.object.namespace}/` : ''}${finding.object.name}`;
      if (!reported.has(where)) problems.push(`${where}: annotation kreplay.dev/suppress ignored: ${parsed.error}`);
      reported.add(where);
      continue;
    }
    if (parsed.kinds.includes(finding.kind)) finding.suppressed = { reason: `${parsed.reason} (annotation kreplay.dev/suppress)` };
  }
  return problems;
}
