import { describe, expect, it } from 'vitest';
import type { SessionRecord } from '../model/index.js';
import { FileOrder, firstHead, goesBefore } from './merge-order.js';

const watch = (rv: string, origin: 'import' | 'audit' = 'import'): SessionRecord => ({
  record: 'watch', observedAt: null, origin, group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', type: 'MODIFIED',
  namespace: 'a', name: 'x', uid: 'u', resourceVersion: rv, generation: null, object: { metadata: { resourceVersion: rv } },
});
const api = (code: number, rvAfter: string | null, at: string): SessionRecord => ({
  record: 'api', observedAt: at, origin: 'audit', actor: 'me', byController: false, verb: 'update',
  object: { group: '', version: 'v1', kind: 'ConfigMap', namespace: 'a', name: 'x' }, code, resourceVersionAfter: rvAfter,
});

describe('merge order', () => {
  it('orders by resourceVersion across files, the audit write before the version it produced', () => {
    const a = new FileOrder();
    const b = new FileOrder();
    const write = a.key(api(200, '12', '2026-01-01T00:00:01Z'));
    const version = b.key(watch('12'));
    expect(goesBefore(write, version)).toBe(true);
    expect(goesBefore(version, write)).toBe(false);
    expect(goesBefore(b.key(watch('13')), a.key(watch('14')))).toBe(true);
  });

  it('a record without a resourceVersion follows the newest its file showed before it', () => {
    const a = new FileOrder();
    const b = new FileOrder();
    a.key(api(200, '20', '2026-01-01T00:00:01Z'));
    const failed = a.key(api(409, null, '2026-01-01T00:00:02Z'));
    expect(failed).toMatchObject({ rv: 20, own: false });
    // After what happened at 20 elsewhere, before 21.
    expect(goesBefore(b.key(watch('20')), failed)).toBe(true);
    expect(goesBefore(failed, b.key(watch('21')))).toBe(true);
  });

  it('keeps one file in its order when its resourceVersions go back (an audit log in completion order)', () => {
    const a = new FileOrder();
    const first = a.key(api(200, '31', '2026-01-01T00:00:01Z'));
    const second = a.key(api(200, '30', '2026-01-01T00:00:01Z'));
    expect(second.rv).toBe(31);
    expect(goesBefore(second, first)).toBe(false);
  });

  it('non-numeric resourceVersions order by time, and a tie goes to the earlier file', () => {
    const a = new FileOrder().key(api(200, 'abc', '2026-01-01T00:00:02Z'));
    const b = new FileOrder().key(api(200, 'xyz', '2026-01-01T00:00:01Z'));
    expect(firstHead([a, b])).toBe(1);
    const w1 = new FileOrder().key(watch('5'));
    const w2 = new FileOrder().key(watch('5'));
    expect(firstHead([undefined, w1, w2])).toBe(1);
    expect(firstHead([undefined, undefined])).toBe(-1);
  });
});
