import { describe, expect, it } from 'vitest';
import { FaultPlan, type FaultPlanInput } from '../model/index.js';
import { FaultEngine, mayServeStale, seededRandom, streamKeyOf, type EventTarget } from './fault-engine.js';

const widget = (type: EventTarget['type'], name: string, namespace = 'ns'): EventTarget => ({ group: 'zoo.kreplay.dev', resource: 'widgets', watchNamespace: namespace, type, namespace, name });

function engine(plan: FaultPlanInput, clock = { t: 0 }): FaultEngine {
  return new FaultEngine(FaultPlan.parse(plan), () => clock.t);
}

describe('FaultEngine', () => {
  it('matches by resource, group, namespace, name and event type, and leaves everything else alone', () => {
    const faults = engine({ rules: [{ match: { resource: 'widgets', group: 'zoo.kreplay.dev', namespace: 'ns', name: 'lost', event: 'DELETED' }, action: 'drop' }] });
    expect(faults.onEvent(widget('DELETED', 'lost'))?.action).toBe('drop');
    expect(faults.onEvent(widget('MODIFIED', 'lost'))).toBeUndefined();
    expect(faults.onEvent(widget('DELETED', 'kept'))).toBeUndefined();
    expect(faults.onEvent(widget('DELETED', 'lost', 'other'))).toBeUndefined();
    expect(faults.onEvent({ ...widget('DELETED', 'lost'), resource: 'configmaps', group: '' })).toBeUndefined();
    expect(faults.onEvent(widget('BOOKMARK', 'lost'))).toBeUndefined();
  });

  it('fires at most count times, after skip matches, inside its time window', () => {
    const clock = { t: 0 };
    const faults = engine({ rules: [{ match: { resource: 'widgets' }, when: { after: '1s', before: '10s', skip: 1, count: 2 }, action: 'duplicate' }] }, clock);
    expect(faults.onEvent(widget('ADDED', 'a'))).toBeUndefined(); // before the window: not even counted
    clock.t = 2000;
    expect(faults.onEvent(widget('ADDED', 'a'))).toBeUndefined(); // skipped
    expect(faults.onEvent(widget('ADDED', 'b'))?.action).toBe('duplicate');
    expect(faults.onEvent(widget('ADDED', 'c'))?.action).toBe('duplicate');
    expect(faults.onEvent(widget('ADDED', 'd'))).toBeUndefined(); // count reached
    clock.t = 11_000;
    expect(faults.onEvent(widget('ADDED', 'e'))).toBeUndefined();
  });

  it('is deterministic with a seed: the same plan fires on the same matches, another seed on others', () => {
    const fired = (seed: number) => {
      const faults = engine({ seed, rules: [{ when: { probability: 0.3 }, action: 'drop' }] });
      return Array.from({ length: 200 }, (_, i) => faults.onEvent(widget('MODIFIED', `w${i}`)) !== undefined);
    };
    expect(fired(42)).toEqual(fired(42));
    expect(fired(42)).not.toEqual(fired(43));
    const rate = fired(42).filter(Boolean).length / 200;
    expect(rate).toBeGreaterThan(0.15);
    expect(rate).toBeLessThan(0.45);
  });

  it('tries rules in order: the first that fires wins', () => {
    const faults = engine({ rules: [{ match: { name: 'a' }, when: { count: 1 }, action: 'drop' }, { action: 'delay', delay: '2s' }] });
    expect(faults.onEvent(widget('ADDED', 'a'))?.action).toBe('drop');
    const second = faults.onEvent(widget('ADDED', 'a'));
    expect(second?.action).toBe('delay');
    expect(second?.delayMs).toBe(2000);
  });

  it('fail rules act on writes (or the verbs they name), never on events', () => {
    const faults = engine({ rules: [{ match: { resource: 'configmaps' }, action: 'fail', code: 409 }, { match: { verb: 'get', name: 'x' }, action: 'fail', code: 500 }] });
    const request = { group: '', resource: 'configmaps', namespace: 'ns', name: 'c', subresource: null };
    expect(faults.onRequest({ ...request, verb: 'update' })?.code).toBe(409);
    expect(faults.onRequest({ ...request, verb: 'get' })).toBeUndefined();
    expect(faults.onRequest({ ...request, verb: 'get', name: 'x', resource: 'secrets' })?.code).toBe(500);
    expect(faults.onEvent({ ...widget('ADDED', 'c'), resource: 'configmaps', group: '' })).toBeUndefined();
  });

  it('an expiry armed on a stream answers its next resume once', () => {
    const faults = engine({ rules: [{ action: 'expire' }] });
    const decision = faults.onEvent(widget('DELETED', 'lost'))!;
    const key = streamKeyOf({ group: 'zoo.kreplay.dev', resource: 'widgets', namespace: 'ns' });
    expect(faults.takeExpiry(key)).toBeUndefined();
    faults.armExpiry(key, decision);
    expect(faults.takeExpiry(streamKeyOf({ group: 'zoo.kreplay.dev', resource: 'widgets', namespace: 'other' }))).toBeUndefined();
    expect(faults.takeExpiry(key)?.action).toBe('expire');
    expect(faults.takeExpiry(key)).toBeUndefined();
  });

  it('reads a watch line by line only when an event rule could touch it', () => {
    const faults = engine({ rules: [{ match: { resource: 'widgets', namespace: 'ns' }, action: 'drop' }, { match: { resource: 'configmaps' }, action: 'fail', code: 500 }] });
    expect(faults.mayTouchWatch({ group: 'zoo.kreplay.dev', resource: 'widgets', namespace: 'ns' })).toBe(true);
    expect(faults.mayTouchWatch({ group: 'zoo.kreplay.dev', resource: 'widgets', namespace: null })).toBe(true);
    expect(faults.mayTouchWatch({ group: 'zoo.kreplay.dev', resource: 'widgets', namespace: 'other' })).toBe(false);
    expect(faults.mayTouchWatch({ group: '', resource: 'configmaps', namespace: 'ns' })).toBe(false);
  });

  it('seededRandom spreads its draws over [0, 1)', () => {
    const random = seededRandom(1);
    const draws = Array.from({ length: 1000 }, random);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    expect(new Set(draws).size).toBe(1000);
  });

  it('stale-list rules answer lists only, within their count', () => {
    const faults = engine({ rules: [{ match: { resource: 'widgets' }, when: { count: 1 }, action: 'stale-list' }] });
    expect(faults.onEvent(widget('ADDED', 'a'))).toBeUndefined();
    expect(faults.onRequest({ verb: 'update', group: 'zoo.kreplay.dev', resource: 'widgets', namespace: 'ns', name: 'a', subresource: null })).toBeUndefined();
    expect(faults.onList({ group: 'zoo.kreplay.dev', resource: 'configmaps', namespace: 'ns' })).toBeUndefined();
    expect(faults.onList({ group: 'zoo.kreplay.dev', resource: 'widgets', namespace: 'ns' })?.action).toBe('stale-list');
    expect(faults.onList({ group: 'zoo.kreplay.dev', resource: 'widgets', namespace: 'ns' })).toBeUndefined();
  });

  it('stops: nothing fires after stop(), and an armed expiry is forgotten', () => {
    const faults = engine({ rules: [{ action: 'drop' }, { action: 'fail', code: 500 }] });
    const key = streamKeyOf({ group: 'zoo.kreplay.dev', resource: 'widgets', namespace: 'ns' });
    const decision = faults.onEvent(widget('ADDED', 'a'))!;
    faults.armExpiry(key, decision);
    expect(faults.firings).toBe(1);
    expect(faults.active).toBe(true);
    faults.stop();
    expect(faults.active).toBe(false);
    expect(faults.onEvent(widget('ADDED', 'b'))).toBeUndefined();
    expect(faults.onRequest({ verb: 'create', group: '', resource: 'configmaps', namespace: 'ns', name: null, subresource: null })).toBeUndefined();
    expect(faults.takeExpiry(key)).toBeUndefined();
    expect(faults.firings).toBe(1);
  });
});

describe('mayServeStale', () => {
  const q = (s: string) => new URLSearchParams(s);
  it('never for a consistent read, always for resourceVersion=0, else not older than asked (exactly, with Exact)', () => {
    expect(mayServeStale(q(''), '10')).toBe(false);
    expect(mayServeStale(q('resourceVersion='), '10')).toBe(false);
    expect(mayServeStale(q('resourceVersion=0'), '10')).toBe(true);
    expect(mayServeStale(q('resourceVersion=10&resourceVersionMatch=NotOlderThan'), '10')).toBe(true);
    expect(mayServeStale(q('resourceVersion=11&resourceVersionMatch=NotOlderThan'), '10')).toBe(false);
    expect(mayServeStale(q('resourceVersion=9'), '10')).toBe(true);
    expect(mayServeStale(q('resourceVersion=9&resourceVersionMatch=Exact'), '10')).toBe(false);
    expect(mayServeStale(q('resourceVersion=10&resourceVersionMatch=Exact'), '10')).toBe(true);
    expect(mayServeStale(q('resourceVersion=abc'), '10')).toBe(false);
  });
});
