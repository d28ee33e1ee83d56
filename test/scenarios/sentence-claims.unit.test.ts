import { describe, expect, it } from 'vitest';
import type { Finding, StoredRecord } from '../../model/index.js';
import { sentenceViolations } from './sentence-claims.js';

// The checker itself: a sentence that contradicts its records is caught, one that agrees is not.

const object = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ops', name: 'fin-release-1', uid: 'u1' };
const finding = (message: string, extra: Partial<Finding> = {}): Finding => ({
  id: 'x', kind: 'stuck-finalizer', severity: 'error', object, firstSeq: 1, lastSeq: 2, resourceVersions: [], count: 1, message, rule: 'finalizer-timeout',
  evidence: [{ seq: 1, resourceVersion: '10', note: 'deletionTimestamp set' }], ...extra,
});
const watch = (seq: number, type: 'MODIFIED' | 'DELETED', rv: string, data: Record<string, string> = {}): StoredRecord => ({
  seq, record: 'watch', observedAt: null, origin: 'import', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', type,
  namespace: 'ops', name: 'fin-release-1', uid: 'u1', resourceVersion: rv, generation: null, object: { metadata: { name: 'fin-release-1', resourceVersion: rv }, data },
});

describe('sentence claims', () => {
  it('catches "still there" about an object the session saw deleted, and a seq that is not the object\'s', () => {
    const records = [watch(1, 'MODIFIED', '10'), watch(2, 'DELETED', '11')];
    expect(sentenceViolations(finding('… still there when the session ended.'), records)).toEqual(['says "still there when the session ended" but seq 2 says it is gone (DELETED)']);
    expect(sentenceViolations(finding('… the object was finally deleted at seq 2.'), records)).toEqual([]);
    expect(sentenceViolations(finding('… the object was finally deleted at seq 9.'), records)).toEqual(['"finally deleted at seq 9": seq 9 is not a record of fin-release-1']);
  });

  it('catches a hot loop said to change nothing, or to change a field that did not change, and a wrong count', () => {
    const records = [watch(1, 'MODIFIED', '10', { n: '1' }), watch(2, 'MODIFIED', '11', { n: '2' })];
    const hot = (message: string) => finding(message, { kind: 'hot-loop', rule: 'hot-write', count: 2 });
    expect(sentenceViolations(hot('op wrote ConfigMap ops/fin-release-1 2 times (…). The writes change nothing but bookkeeping.'), records)).toEqual([
      'says the writes change nothing that matters, but .data.n changed between versions',
    ]);
    expect(sentenceViolations(hot('op wrote ConfigMap ops/fin-release-1 2 times without changing anything but timestamps.'), records)[1]).toBe('says only timestamps changed, but .data.n changed');
    expect(sentenceViolations(hot('op wrote ConfigMap ops/fin-release-1 3 times. What changes from one write to the next (1 sampled): .data.m. Each write …'), records)).toEqual([
      'says 3 times, the finding counts 2',
      'names .data.m as changing, but no two consecutive versions in seqs 1-2 differ there',
    ]);
    expect(sentenceViolations(hot('op wrote ConfigMap ops/fin-release-1 2 times. What changes from one write to the next (1 sampled): .data.n. Each write …'), records)).toEqual([]);
  });
});
