import { afterEach, describe, expect, it } from 'vitest';
import { benchNumber } from './env.js';

describe('benchNumber', () => {
  const name = 'KREPLAY_BENCH_TEST_SETTING';
  afterEach(() => {
    delete process.env[name];
  });

  it('gives the fallback when unset or empty, and the number when set', () => {
    expect(benchNumber(name, 20)).toBe(20);
    process.env[name] = ' ';
    expect(benchNumber(name, 20)).toBe(20);
    process.env[name] = '3600';
    expect(benchNumber(name, 20)).toBe(3600);
    process.env[name] = '0.5';
    expect(benchNumber(name, 20)).toBe(0.5);
  });

  it('names the variable and the value it cannot use, instead of measuring the default', () => {
    for (const bad of ['abc', '0', '-5', 'Infinity', '60s']) {
      process.env[name] = bad;
      expect(() => benchNumber(name, 20)).toThrow(`${name}="${bad}": expected a positive number (unset: 20)`);
    }
  });
});
