import type { CheckConfigInput } from '../../model/check-config.js';
import type { Finding, FindingKind, StoredRecord } from '../../model/index.js';
import { analyze } from '../analyze.js';

/** Runs one detector kind over the records and returns its findings (a compact form for assertions). */
export function findings(records: readonly StoredRecord[], kind: FindingKind, config: CheckConfigInput = {}): Finding[] {
  return analyze(records, { config: { ...config, only: [kind] } }).findings;
}

export function summary(list: readonly Finding[]): Array<{ rule: string; name: string; count: number }> {
  return list.map((f) => ({ rule: f.rule, name: f.object.name, count: f.count }));
}
