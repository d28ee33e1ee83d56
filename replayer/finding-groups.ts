import {
  findingKindRegistry,
  findingObjectOf,
  nameKey,
  type Blame,
  type EvidenceItem,
  type Finding,
  type FindingKind,
  type FindingObject,
  type ObjectRef,
  type Severity,
} from '../model/index.js';
import type { ObjectState } from './state.js';

/** Evidence kept per finding: the first ones explain the start, the last ones show it is still going on. */
const evidenceHead = 15;
const evidenceTail = 10;
const rvLimit = 20;

export interface Group<D> {
  readonly kind: FindingKind;
  readonly rule: string;
  readonly object: FindingObject;
  /** uid when known, else the name key. */
  readonly objectKey: string;
  firstSeq: number;
  lastSeq: number;
  count: number;
  severity: Severity;
  /** Who owns what the finding blames (see model/findings.ts Blame). */
  blame: Blame | null;
  readonly data: D;
  head: EvidenceItem[];
  tail: EvidenceItem[];
  rvs: string[];
  /** RVs already listed or seen, as rvKey gives them (bounded). */
  rvSet: Set<string | number>;
  /** rvSet is the live group's (a scratch copy's, until hit() adds to it): copied on first write, not per report. */
  rvSetShared?: boolean;
}

export interface Occurrence {
  /** Records that show this occurrence. The group's first/last seq span them. */
  evidence: readonly (EvidenceItem | null | undefined | false)[];
  /** Occurrences this hit stands for (default 1). */
  count?: number;
}

type Subject = ObjectState | ObjectRef;

function isState(subject: Subject): subject is ObjectState {
  return (subject as ObjectState).versionRVs !== undefined;
}

/**
 * Groups repeats of one cause (rule) on one object into one finding with a count: detectors report every
 * occurrence, the group keeps the first and last evidence, the resourceVersions and whatever the detector needs
 * to word its message.
 */
export class FindingGroups<D> {
  private groups = new Map<string, Group<D>>();
  /** Inside scratch(): the groups are copies nobody else holds, so findings may keep their lists. */
  private scratching = false;

  constructor(
    readonly kind: FindingKind,
    private readonly init: () => D,
  ) {}

  hit(subject: Subject, rule: string, occurrence: Occurrence): Group<D> {
    const ref = isState(subject) ? subject.ref : subject;
    const objectKey = (isState(subject) ? subject.uid : ref.uid) || nameKey(ref);
    const key = `${rule}\u0000${objectKey}`;
    let group = this.groups.get(key);
    const evidence = occurrence.evidence.filter((e): e is EvidenceItem => Boolean(e));
    const seqs = evidence.map((e) => e.seq);
    const first = Math.min(...seqs);
    const last = Math.max(...seqs);
    if (!group) {
      group = {
        kind: this.kind,
        rule,
        object: findingObjectOf(ref),
        objectKey,
        firstSeq: first,
        lastSeq: last,
        count: 0,
        severity: findingKindRegistry[this.kind].severity,
        blame: null,
        data: this.init(),
        head: [],
        tail: [],
        rvs: [],
        rvSet: new Set(),
      };
      this.groups.set(key, group);
    }
    group.count += occurrence.count ?? 1;
    // Evidence past every seq kept so far cannot repeat an item: a loop's every write is one, and scanning the kept
    // items for each was most of what a hit cost.
    let newest = group.lastSeq;
    if (first < group.firstSeq) group.firstSeq = first;
    if (last > group.lastSeq) group.lastSeq = last;
    for (const item of evidence) {
      if (item.seq > newest) newest = item.seq;
      else if (group.head.some((e) => e.seq === item.seq && e.note === item.note) || group.tail.some((e) => e.seq === item.seq && e.note === item.note)) continue;
      if (group.head.length < evidenceHead) group.head.push(item);
      else {
        group.tail.push(item);
        if (group.tail.length > evidenceTail) group.tail.shift();
      }
      const rv = item.resourceVersion;
      const key = rv ? rvKey(rv) : undefined;
      if (rv && !group.rvSet.has(key!)) {
        if (group.rvSetShared) {
          group.rvSet = new Set(group.rvSet);
          group.rvSetShared = false;
        }
        // Remember enough to de-duplicate what is shown; a long loop must not grow memory with its length.
        if (group.rvSet.size < 1000) group.rvSet.add(key!);
        if (group.rvs.length < rvLimit) group.rvs.push(rv);
        else group.rvs[rvLimit - 1] = rv;
      }
    }
    return group;
  }

  get(subject: Subject, rule: string): Group<D> | undefined {
    const ref = isState(subject) ? subject.ref : subject;
    const objectKey = (isState(subject) ? subject.uid : ref.uid) || nameKey(ref);
    return this.groups.get(`${rule}\u0000${objectKey}`);
  }

  all(): IterableIterator<Group<D>> {
    return this.groups.values();
  }

  delete(group: Group<D>): void {
    this.groups.delete(`${group.rule}\u0000${group.objectKey}`);
  }

  /**
   * Runs `report` over a copy of the groups and returns what it returns; the live groups are untouched. A detector's
   * finish() reports as if the session ended now (it closes what is still open, blames, drops groups), and the
   * recorder's online analysis asks that many times while records keep coming (replayer/analyze.ts report()):
   * whatever finish adds or changes must not be there when the next fact arrives.
   */
  scratch<T>(report: () => T): T {
    const live = this.groups;
    const copy = new Map<string, Group<D>>();
    for (const [key, group] of live) copy.set(key, copyGroup(group));
    this.groups = copy;
    this.scratching = true;
    try {
      return report();
    } finally {
      this.groups = live;
      this.scratching = false;
    }
  }

  /** Findings in first-seq order; ids are made unique by the analysis. */
  findings(message: (group: Group<D>) => string): Finding[] {
    const out: Finding[] = [];
    for (const group of this.groups.values()) {
      const evidence = inSeqOrder(group.head.concat(group.tail));
      out.push({
        id: `${group.kind}:${group.objectKey}:${group.firstSeq}`,
        kind: group.kind,
        severity: group.severity,
        object: group.object,
        firstSeq: group.firstSeq,
        lastSeq: group.lastSeq,
        resourceVersions: this.scratching ? group.rvs : [...group.rvs],
        count: group.count,
        message: message(group),
        rule: group.rule,
        evidence,
        ...(group.blame ? { blame: this.scratching ? group.blame : { ...group.blame } } : {}),
      });
    }
    return out.sort((a, b) => a.firstSeq - b.firstSeq);
  }
}

/** Sorted by seq: evidence mostly arrives in order already, and sorting a thousand findings' lists on every report was a tenth of it. */
function inSeqOrder(items: EvidenceItem[]): EvidenceItem[] {
  for (let i = 1; i < items.length; i++) if (items[i]!.seq < items[i - 1]!.seq) return items.sort((a, b) => a.seq - b.seq);
  return items;
}

/**
 * A group finish() may change: its own fields, its evidence lists and its data's fields (a Map, Set or array there
 * copied one level: finish replaces or adds to them, it never edits what they hold).
 */
function copyGroup<D>(group: Group<D>): Group<D> {
  const data = { ...group.data } as Record<string, unknown>;
  for (const key in data) {
    const value = data[key];
    if (typeof value !== 'object' || value === null) continue;
    if (value instanceof Map) data[key] = new Map(value);
    else if (value instanceof Set) data[key] = new Set(value);
    else if (Array.isArray(value)) data[key] = [...value];
  }
  return {
    ...group,
    blame: group.blame ? { ...group.blame } : null,
    data: data as D,
    head: [...group.head],
    tail: [...group.tail],
    rvs: [...group.rvs],
    rvSetShared: true,
  };
}

/**
 * An RV as a Set key: etcd's revisions (decimal integers) as numbers, which a Set holds without a string each (a
 * thousand loops with a thousand RVs each were tens of MB of strings); anything else as it is. One to one: a number
 * only stands for its own canonical decimal text.
 */
function rvKey(rv: string): string | number {
  const n = Number(rv);
  return Number.isSafeInteger(n) && String(n) === rv ? n : rv;
}

/** An evidence item, or nothing when the seq is unknown. */
export function ev(seq: number | null | undefined, note: string, resourceVersion?: string | null): EvidenceItem | null {
  if (!seq || seq < 1) return null;
  return resourceVersion ? { seq, resourceVersion, note } : { seq, note };
}
