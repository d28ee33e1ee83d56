import { describe, expect, it } from 'vitest';
import { CheckConfig, enabledKinds, parseDuration, parseSuppressAnnotation, Suppression } from './check-config.js';

describe('check config', () => {
  it('parses Go durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('5 minutes')).toBeUndefined();
    expect(parseDuration('10')).toBeUndefined();
  });

  it('fills defaults and merges partial thresholds', () => {
    const config = CheckConfig.parse({ thresholds: { finalizerTimeout: '10m' } });
    expect(config.thresholds).toMatchObject({ finalizerTimeout: 600_000, hotLoopWrites: 10, hotLoopWindow: 60_000, unreconciledAfter: 60_000 });
    expect(config.failOn).toBe('warning');
  });

  it('rejects unknown keys and kinds', () => {
    expect(CheckConfig.safeParse({ threshold: {} }).success).toBe(false);
    expect(CheckConfig.safeParse({ only: ['no-such-kind'] }).success).toBe(false);
  });

  it('requires a reason and a selector on suppressions', () => {
    expect(Suppression.safeParse({ name: 'web-*' }).success).toBe(false);
    expect(Suppression.safeParse({ reason: 'because' }).success).toBe(false);
    expect(Suppression.safeParse({ finding: ['hot-loop'], namespace: 'kube-*', reason: 'system' }).success).toBe(true);
  });

  it('parses the suppress annotation', () => {
    expect(parseSuppressAnnotation('hot-loop,stale-read: heartbeat')).toEqual({ kinds: ['hot-loop', 'stale-read'], reason: 'heartbeat' });
    expect(parseSuppressAnnotation('hot-loop')).toHaveProperty('error');
    expect(parseSuppressAnnotation('hot-loops: x')).toEqual({ error: expect.stringMatching(/unknown finding kind\(s\) hot-loops/) as string });
  });

  it('enables kinds from only/skip in registry order', () => {
    expect(enabledKinds({ only: ['unreconciled', 'hot-loop'], skip: ['hot-loop'] })).toEqual(['unreconciled']);
  });
});
