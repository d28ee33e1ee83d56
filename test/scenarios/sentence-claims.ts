import type { Finding, KubeObject, StoredRecord } from '../../model/index.js';
import { diffObjects } from '../../replayer/diff.js';

/**
 * What a finding's sentence claims, checked against the session it came from: a sentence is built from its
 * evidence, so what it says about the object's end (gone, still there), which fields changed, how many times and
 * at which seq must hold in the records. Each claim is recognised by its wording (the detectors' sentence code in
 * replayer/detectors/*.ts); a violation names the claim and what the records say instead.
 */

function names(record: StoredRecord, finding: Finding): boolean {
  const o = finding.object;
  if (record.record === 'watch') return (o.uid && record.uid ? record.uid === o.uid : record.name === o.name && record.namespace === (o.namespace ?? null)) && record.kind === o.kind;
  if (record.record === 'api' || record.record === 'reconcile' || record.record === 'reconcile-start' || record.record === 'delivery') {
    const ref = record.object;
    return ref.kind === o.kind && ref.name === o.name && (ref.namespace ?? null) === (o.namespace ?? null);
  }
  return false;
}

/** A record saying the object no longer exists: a DELETED event, a delete answered with a Status, a 404. */
function saysGone(record: StoredRecord): boolean {
  if (record.record === 'watch') return record.type === 'DELETED';
  if (record.record === 'api') {
    if (record.code === 404) return true;
    const body = record.responseObject as KubeObject | undefined | null;
    return record.verb === 'delete' && record.code >= 200 && record.code < 300 && (body?.kind === 'Status' || body === undefined || body === null) && record.resourceVersionAfter == null;
  }
  return false;
}

const bookkeeping = (path: string) => path === '.metadata.resourceVersion' || path.startsWith('.metadata.managedFields') || path === '.metadata.generation';

/** The fields that changed between consecutive versions of the finding's object within its evidence's seqs. */
function changedPaths(finding: Finding, records: readonly StoredRecord[]): { paths: Set<string>; pairs: number } {
  const versions = records.filter((r): r is StoredRecord & { record: 'watch' } => r.record === 'watch' && r.type !== 'BOOKMARK' && r.seq >= finding.firstSeq && r.seq <= finding.lastSeq && names(r, finding));
  const paths = new Set<string>();
  let pairs = 0;
  const seen = new Set<string>();
  let previous: KubeObject | null = null;
  for (const v of versions) {
    // One version, one change: a relist or a duplicate delivery of a version seen already is not a write.
    if (seen.has(v.resourceVersion)) continue;
    seen.add(v.resourceVersion);
    if (previous && v.object) {
      pairs++;
      for (const e of Object.values(diffObjects(previous, v.object, { includeManagedFields: false }).sections).flat()) paths.add(e.path);
    }
    if (v.object) previous = v.object;
  }
  return { paths, pairs };
}

export function sentenceViolations(finding: Finding, records: readonly StoredRecord[]): string[] {
  const text = finding.message;
  const out: string[] = [];
  const after = records.filter((r) => r.seq >= finding.firstSeq);

  if (/still there when the session ended/.test(text)) {
    const gone = after.find((r) => names(r, finding) && saysGone(r));
    if (gone) out.push(`says "still there when the session ended" but seq ${gone.seq} says it is gone (${gone.record === 'watch' ? gone.type : gone.record === 'api' ? `${gone.verb} ${gone.code}` : gone.record})`);
  }
  for (const m of text.matchAll(/(?:finally deleted|last finalizer went|finalizer removed|deleted) at seq (\d+)/g)) {
    const seq = Number(m[1]);
    const record = records.find((r) => r.seq === seq);
    if (!record || !names(record, finding)) out.push(`"${m[0]}": seq ${seq} is not a record of ${finding.object.name}`);
  }
  const wrote = /\bwrote \S+(?: \S+)? (\d+) times\b/.exec(text) ?? /\breconciled \S+(?: \S+)? (\d+) times\b/.exec(text);
  if (wrote && Number(wrote[1]) !== finding.count) out.push(`says ${wrote[1]} times, the finding counts ${finding.count}`);

  if (finding.kind === 'hot-loop' && finding.rule === 'hot-write') {
    const { paths, pairs } = changedPaths(finding, records);
    const real = [...paths].filter((p) => !bookkeeping(p));
    if (/change nothing but bookkeeping|without changing anything but timestamps/.test(text) && pairs > 0 && real.length > 0) {
      out.push(`says the writes change nothing that matters, but ${real.slice(0, 3).join(', ')} changed between versions`);
    }
    if (/but timestamps/.test(text)) {
      const nonTime = real.filter((p) => !/(time|timestamp|At|heartbeat)$/i.test(p.split('.').pop() ?? ''));
      if (nonTime.length) out.push(`says only timestamps changed, but ${nonTime.slice(0, 3).join(', ')} changed`);
    }
    const listed = /What changes from one write to the next \(\d+ sampled\): ([^]*?)\.(?: Each| $)/.exec(text);
    if (listed && pairs > 0) {
      for (const item of listed[1]!.split('; ')) {
        const path = item.replace(/ \(.*$/, '').replace(/,.*$/, '');
        if (!paths.has(path)) out.push(`names ${path} as changing, but no two consecutive versions in seqs ${finding.firstSeq}-${finding.lastSeq} differ there`);
      }
    }
  }
  return out;
}
