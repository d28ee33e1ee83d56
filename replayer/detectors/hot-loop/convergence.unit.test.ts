import { describe, expect, it } from 'vitest';
import type { DiffEntry } from '../../diff.js';
import { makesProgress } from './convergence.js';

const moved = (path: string, before: number, after: number): DiffEntry => ({ path, kind: 'changed', before, after });

describe('makesProgress: a status number moving toward a target of a shared name', () => {
  it('counts readyReplicas one closer to replicas, and not past it', () => {
    const object = { spec: { replicas: 3 }, status: { readyReplicas: 2 } };
    expect(makesProgress(object, [moved('.status.readyReplicas', 1, 2)])).toBe(true);
    expect(makesProgress({ ...object, status: { readyReplicas: 4 } }, [moved('.status.readyReplicas', 2, 4)])).toBe(false);
    // Away from it.
    expect(makesProgress({ ...object, status: { readyReplicas: 1 } }, [moved('.status.readyReplicas', 2, 1)])).toBe(false);
  });

  it('finds targets under lists and under keys without letters (their name is the parent’s)', () => {
    const pods = { spec: { groups: [{ members: 5 }] }, status: { readyMembers: 3 } };
    expect(makesProgress(pods, [moved('.status.readyMembers', 2, 3)])).toBe(true);
    const limits = { spec: { limits: { '7': 4 } }, status: { usedLimits: 2 } };
    expect(makesProgress(limits, [moved('.status.usedLimits', 1, 2)])).toBe(true);
    // A name whose last letters are "x" after digits ("v2x") shares nothing with "limits".
    expect(makesProgress({ spec: { v2x: 4 }, status: { usedLimits: 2 } }, [moved('.status.usedLimits', 1, 2)])).toBe(false);
  });

  it('ignores targets the same write changed, names of meaningless words, non-status numbers, and depth past six', () => {
    const object = { spec: { replicas: 3 }, status: { readyReplicas: 2 } };
    expect(makesProgress(object, [moved('.status.readyReplicas', 1, 2), moved('.spec.replicas', 4, 3)])).toBe(false);
    expect(makesProgress({ spec: { lastCount: 9 }, status: { observedCount: 2 } }, [moved('.status.observedCount', 1, 2)])).toBe(false);
    expect(makesProgress(object, [moved('.spec.readyReplicas', 1, 2)])).toBe(false);
    expect(makesProgress(object, [{ path: '.status.readyReplicas', kind: 'added', after: 2 }])).toBe(false);
    // {spec, status} is depth 0: a target at depth 6 counts, one at depth 7 does not.
    expect(makesProgress({ spec: { a: { b: { c: { d: { replicas: 3 } } } } }, status: { readyReplicas: 2 } }, [moved('.status.readyReplicas', 1, 2)])).toBe(true);
    expect(makesProgress({ spec: { a: { b: { c: { d: { e: { replicas: 3 } } } } } }, status: { readyReplicas: 2 } }, [moved('.status.readyReplicas', 1, 2)])).toBe(false);
  });

  it('judges a status of many numbers by the ones that share a word, whatever their order', () => {
    const status = { replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2, observedGeneration: 7, collisionCount: 1 };
    const object = { spec: { replicas: 3, revisionHistoryLimit: 10, progressDeadlineSeconds: 600 }, status };
    expect(makesProgress(object, [moved('.status.collisionCount', 0, 1), moved('.status.availableReplicas', 1, 2)])).toBe(true);
    expect(makesProgress(object, [moved('.status.collisionCount', 0, 1), moved('.status.observedGeneration', 6, 7)])).toBe(false);
  });

  it('judges each write by its own numbers when versions share one spec object (as decoded deltas do)', () => {
    const spec = { replicas: 3 };
    expect(makesProgress({ spec, status: { readyReplicas: 2 } }, [moved('.status.readyReplicas', 1, 2)])).toBe(true);
    expect(makesProgress({ spec, status: { readyReplicas: 4 } }, [moved('.status.readyReplicas', 3, 4)])).toBe(false);
    expect(makesProgress({ spec, status: { readyReplicas: 2 } }, [moved('.status.readyReplicas', 1, 2), moved('.spec.replicas', 2, 3)])).toBe(false);
  });
});
