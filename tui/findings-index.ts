import { findingKindRegistry, severityRank, type Finding, type FindingKind, type Severity } from '../model/index.js';

/** A short badge per finding kind, for the timeline's narrow badge column. */
export const findingBadges: Readonly<Record<FindingKind, string>> = {
  'duplicate-event': 'DUP',
  'lost-event': 'LOST',
  'dfsu-gap': 'DFSU',
  'status-spec-race': 'RACE',
  'stuck-finalizer': 'FIN',
  'hot-loop': 'HOT',
  'notfound-retry': '404',
  'stale-read': 'STALE',
  unreconciled: 'UNREC',
  'reconcile-lag': 'LAG',
  'hung-reconcile': 'HUNG',
  'cluster-wide-watch': 'WIDE',
};

/** Findings keyed by the seqs that are their evidence: badges per row, "next finding", the finding filter. */
export class FindingsIndex {
  readonly findings: readonly Finding[];
  /** Every evidence seq, ascending, without duplicates. */
  readonly seqs: readonly number[];
  private readonly bySeq = new Map<number, Finding[]>();
  private readonly seqsByKind = new Map<FindingKind, number[]>();
  /** Evidence seqs that get no badge: the first delivery of a version a duplicate-event finding saw twice. */
  private readonly unbadged = new Set<string>();

  constructor(findings: readonly Finding[]) {
    // Worst first, then in the order they happened: the list a post-mortem reads top down.
    this.findings = [...findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.firstSeq - b.firstSeq || a.id.localeCompare(b.id));
    for (const finding of this.findings) {
      const seqs = new Set<number>([finding.firstSeq, ...finding.evidence.map((e) => e.seq)]);
      for (const seq of seqs) {
        const list = this.bySeq.get(seq) ?? [];
        list.push(finding);
        this.bySeq.set(seq, list);
        const byKind = this.seqsByKind.get(finding.kind) ?? [];
        byKind.push(seq);
        this.seqsByKind.set(finding.kind, byKind);
      }
    }
    for (const finding of this.findings) if (finding.kind === 'duplicate-event') for (const seq of firstDeliveries(finding)) this.unbadged.add(`${finding.id}@${seq}`);
    this.seqs = [...this.bySeq.keys()].sort((a, b) => a - b);
    for (const [kind, list] of this.seqsByKind) this.seqsByKind.set(kind, [...new Set(list)].sort((a, b) => a - b));
  }

  get size(): number {
    return this.findings.length;
  }

  at(seq: number): readonly Finding[] {
    return this.bySeq.get(seq) ?? [];
  }

  /** The seqs of the given kinds ('any' = all), ascending. */
  seqsOf(kinds: readonly (FindingKind | 'any')[]): readonly number[] {
    if (kinds.includes('any')) return this.seqs;
    if (kinds.length === 1) return this.seqsByKind.get(kinds[0] as FindingKind) ?? [];
    const merged = new Set<number>();
    for (const kind of kinds) for (const seq of this.seqsByKind.get(kind as FindingKind) ?? []) merged.add(seq);
    return [...merged].sort((a, b) => a - b);
  }

  /**
   * The findings whose badge a row shows. A version delivered twice is the duplicate only on its re-delivery: the
   * first delivery is evidence (the detail panel lists it, `n` steps to it) but shows no DUP.
   */
  badgedAt(seq: number): readonly Finding[] {
    const all = this.at(seq);
    return this.unbadged.size === 0 ? all : all.filter((f) => !this.unbadged.has(`${f.id}@${seq}`));
  }

  /** The next evidence seq strictly after (direction 1) or before (-1) `seq`. */
  next(seq: number, direction: 1 | -1): number | undefined {
    const i = lowerBound(this.seqs, direction === 1 ? seq + 1 : seq);
    return direction === 1 ? this.seqs[i] : this.seqs[i - 1];
  }

  countBySeverity(): Record<Severity, number> {
    const counts: Record<Severity, number> = { info: 0, warning: 0, error: 0 };
    for (const finding of this.findings) if (!finding.suppressed) counts[finding.severity] += 1;
    return counts;
  }

  /** The worst severity of the badged findings at a seq, for the badge colour. */
  worstAt(seq: number): Severity | undefined {
    let worst: Severity | undefined;
    for (const finding of this.badgedAt(seq)) if (!worst || severityRank(finding.severity) > severityRank(worst)) worst = finding.severity;
    return worst;
  }

  static title(kind: FindingKind): string {
    return findingKindRegistry[kind].title;
  }
}

/**
 * The seqs of a duplicate-event finding's evidence that are a first delivery: for each resourceVersion its evidence
 * holds at more than one seq, the earliest (the delivery the later ones repeat; replayer/detectors/duplicate-event.ts
 * gives the first delivery and the re-delivery the same resourceVersion).
 */
function firstDeliveries(finding: Finding): number[] {
  const byRV = new Map<string, number[]>();
  for (const e of finding.evidence) {
    if (!e.resourceVersion) continue;
    const seqs = byRV.get(e.resourceVersion) ?? [];
    if (!seqs.includes(e.seq)) seqs.push(e.seq);
    byRV.set(e.resourceVersion, seqs);
  }
  const first: number[] = [];
  for (const seqs of byRV.values()) if (seqs.length > 1) first.push(Math.min(...seqs));
  return first;
}

/** First index whose value is >= target. */
export function lowerBound(sorted: readonly number[], target: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
