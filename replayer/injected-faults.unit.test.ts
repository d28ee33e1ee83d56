import { describe, expect, it } from 'vitest';
import { analyze } from './analyze.js';
import type { StoredRecord } from '../model/index.js';

const at = (s: number) => `2026-01-01T00:00:${String(s).padStart(2, '0')}.000Z`;
const cm = (seq: number, type: 'ADDED' | 'MODIFIED', rv: string, origin: 'watch' | 'relist' = 'watch'): StoredRecord => ({
  seq, record: 'watch', observedAt: at(seq), origin, group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', type,
  namespace: 'ns', name: 'c', uid: 'u1', resourceVersion: rv, generation: null,
  object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns', uid: 'u1', resourceVersion: rv } },
});
const marker = (seq: number, m: 'list-started' | 'list-finished' | 'fault', extra: Record<string, unknown> = {}): StoredRecord =>
  ({ seq, record: 'marker', observedAt: at(seq), origin: 'proxy', marker: m, group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'ns', ...extra }) as StoredRecord;

describe('injected faults in findings', () => {
  const session = (withFault: boolean): StoredRecord[] => [
    marker(1, 'list-started'),
    cm(2, 'ADDED', '5', 'relist'),
    marker(3, 'list-finished', { resourceVersion: '5' }),
    cm(4, 'MODIFIED', '6'),
    ...(withFault ? [marker(5, 'fault', { resourceVersion: '6', message: 'fault "twice": delivered the MODIFIED of ns/c at resourceVersion 6 twice' })] : []),
    cm(6, 'MODIFIED', '6'),
  ];

  it('a duplicate after a fault on the same resource says so, with the fault as evidence', () => {
    const [finding] = analyze(session(true)).findings.filter((f) => f.kind === 'duplicate-event');
    expect(finding?.message).toContain('An injected fault preceded it (seq 5): fault "twice"');
    expect(finding?.evidence.some((e) => e.seq === 5)).toBe(true);
  });

  it('without a fault marker the finding is unchanged', () => {
    const [finding] = analyze(session(false)).findings.filter((f) => f.kind === 'duplicate-event');
    expect(finding?.message).not.toContain('injected');
  });

  it('a fault on another resource or after the finding is not its cause', () => {
    const records = session(false).filter((r) => r.seq !== 6);
    records.push(marker(5, 'fault', { resource: 'secrets', kind: 'Secret', message: 'elsewhere' }), cm(6, 'MODIFIED', '6'), marker(7, 'fault', { message: 'later' }));
    const [finding] = analyze(records).findings.filter((f) => f.kind === 'duplicate-event');
    expect(finding?.message).not.toContain('injected');
  });
});
