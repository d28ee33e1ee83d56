import type { Finding, FindingKind, StoredRecord } from '../model/index.js';

/**
 * The faults `kreplay proxy --faults` injected (its `fault` markers), so that a finding about the controller's view
 * can say which fault preceded it: a lost or duplicate delivery, or a tombstone after a 410, is then the controller
 * meeting a planned fault, and the finding says how it coped. One helper for every kind it applies to, so the
 * detectors themselves stay as they are.
 */

/** The kinds whose cause can be an injected fault in what the watch delivered. */
const faultableKinds: ReadonlySet<FindingKind> = new Set<FindingKind>(['dfsu-gap', 'lost-event', 'duplicate-event']);

interface InjectedFault {
  readonly seq: number;
  readonly group: string;
  readonly kind: string | undefined;
  readonly resource: string | undefined;
  readonly namespace: string | null;
  readonly message: string;
}

export class InjectedFaults {
  private readonly faults: InjectedFault[] = [];

  observe(record: StoredRecord): void {
    if (record.record !== 'marker' || record.marker !== 'fault') return;
    this.faults.push({ seq: record.seq, group: record.group ?? '', kind: record.kind, resource: record.resource, namespace: record.namespace ?? null, message: record.message ?? 'a fault was injected' });
  }

  /** Appends the latest fault on the finding's resource (same kind, a namespace that covers it) before its last record. */
  explain(findings: Finding[]): void {
    if (this.faults.length === 0) return;
    for (const finding of findings) {
      if (!faultableKinds.has(finding.kind)) continue;
      const slash = finding.object.apiVersion.indexOf('/');
      const group = slash === -1 ? '' : finding.object.apiVersion.slice(0, slash);
      let fault: InjectedFault | undefined;
      for (const f of this.faults) {
        if (f.seq > finding.lastSeq) break;
        if (f.group === group && f.kind === finding.object.kind && (f.namespace === null || f.namespace === finding.object.namespace)) fault = f;
      }
      if (!fault) continue;
      finding.message = `${finding.message} An injected fault preceded it (seq ${fault.seq}): ${fault.message}.`;
      finding.evidence.push({ seq: fault.seq, note: `injected fault: ${fault.message}` });
    }
  }
}
