import { describe, expect, it } from 'vitest';
import { Finding } from '../../model/index.js';
import { compare, ExpectFile, type ZooController } from './zoo-lib.js';

function finding(kind: Finding['kind'], severity: Finding['severity'], namespace: string | null, name: string): Finding {
  return Finding.parse({
    id: `${kind}-${name}`,
    kind,
    severity,
    object: { apiVersion: 'v1', kind: 'ConfigMap', namespace, name, uid: null },
    firstSeq: 1,
    lastSeq: 2,
    resourceVersions: [],
    count: 1,
    message: '',
    rule: 'r',
    evidence: [],
  });
}

function controller(expect: unknown): ZooController {
  return { name: 'c', namespace: 'zoo-c', identity: 'zoo-c', expect: ExpectFile.parse(expect), workload: { duration: 25, steps: [] } };
}

describe('zoo compare', () => {
  const infoPlanted = controller({ planted: 'p', expect: [{ kind: 'cluster-wide-watch', namespace: '', name: '*', severity: 'info' }] });

  it('an info-level planted finding is found at info, and other info findings are still not compared', () => {
    const r = compare(infoPlanted, 'audit', 's', [finding('cluster-wide-watch', 'info', null, '*'), finding('hot-loop', 'info', 'zoo-c', 'x')]);
    expect(r).toMatchObject({ ok: true, found: ['cluster-wide-watch * (info)'], missed: [], unexpected: [] });
  });

  it('an info-level planted finding raised to warning is missed and unexpected', () => {
    const r = compare(infoPlanted, 'audit', 's', [finding('cluster-wide-watch', 'warning', null, '*')]);
    expect(r).toMatchObject({ ok: false, missed: ['cluster-wide-watch * (info)'], unexpected: ['cluster-wide-watch *'] });
  });

  it('an entry without severity needs warning or above: an info finding of that key does not count', () => {
    const c = controller({ planted: 'p', expect: [{ kind: 'hot-loop', namespace: 'zoo-c', name: 'hot' }] });
    expect(compare(c, 'record', 's', [finding('hot-loop', 'info', 'zoo-c', 'hot')])).toMatchObject({ ok: false, missed: ['hot-loop zoo-c/hot'] });
    expect(compare(c, 'record', 's', [finding('hot-loop', 'error', 'zoo-c', 'hot')])).toMatchObject({ ok: true, found: ['hot-loop zoo-c/hot'] });
  });

  it('a suppressed finding is neither found nor unexpected', () => {
    const f = { ...finding('cluster-wide-watch', 'info', null, '*'), suppressed: { reason: 'r' } };
    expect(compare(infoPlanted, 'record', 's', [f, { ...finding('stale-read', 'warning', 'zoo-c', 'y'), suppressed: { reason: 'r' } }])).toMatchObject({ missed: ['cluster-wide-watch * (info)'], unexpected: [] });
  });
});
