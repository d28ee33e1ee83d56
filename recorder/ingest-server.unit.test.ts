import { describe, expect, it } from 'vitest';
import { TokenBucket, parseListen } from './ingest-server.js';

describe('parseListen', () => {
  it('accepts host:port, :port, [v6]:port and a bare port', () => {
    expect(parseListen('0.0.0.0:9477')).toEqual({ host: '0.0.0.0', port: 9477 });
    expect(parseListen(':8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListen('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseListen('7070')).toEqual({ host: '127.0.0.1', port: 7070 });
  });

  it('refuses what is not an address', () => {
    expect(() => parseListen('localhost')).toThrow(/not a listen address/);
    expect(() => parseListen('host:99999')).toThrow(/not a listen address/);
  });
});

describe('TokenBucket', () => {
  it('allows a burst, goes negative on a big batch, then asks to wait in proportion', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 20, () => now);
    expect(bucket.take(15).ok).toBe(true);
    expect(bucket.take(15).ok).toBe(true); // 5 - 15 = -10: allowed once
    expect(bucket.take(1)).toEqual({ ok: false, retryAfterSeconds: 1 });
    now += 500; // +5 tokens: -5
    expect(bucket.take(1)).toEqual({ ok: false, retryAfterSeconds: 1 });
    now += 1_000; // +10: 5
    expect(bucket.take(1).ok).toBe(true);
    now += 60_000;
    expect(bucket.take(20).ok).toBe(true); // refilled to the burst, not beyond
    expect(bucket.take(1).ok).toBe(true);
    expect(bucket.take(1).ok).toBe(false);
  });
});
