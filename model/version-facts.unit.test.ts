import { describe, expect, it } from 'vitest';
import { isLeaderElectionRecord, versionFacts } from './version-facts.js';

const lock = (holder: unknown) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'lock', annotations: { 'control-plane.alpha.kubernetes.io/leader': JSON.stringify(holder) } } });

describe('version facts', () => {
  it('know a leader-election record by its annotation holding a holderIdentity', () => {
    expect(isLeaderElectionRecord(lock({ holderIdentity: 'op-1', renewTime: '2026-11-25T10:00:00Z' }))).toBe(true);
    expect(isLeaderElectionRecord(lock({ owner: 'op-1' }))).toBe(false);
    expect(isLeaderElectionRecord({ metadata: { annotations: { 'control-plane.alpha.kubernetes.io/leader': 'not json' } } })).toBe(false);
    expect(isLeaderElectionRecord({ metadata: { name: 'plain' } })).toBe(false);
    expect(versionFacts(null, lock({ holderIdentity: 'op-1' }), null, false).leaderRecord).toBe(true);
  });
});
