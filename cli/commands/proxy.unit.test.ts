import { describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { parseProxyListen } from './proxy.js';

describe('kreplay proxy --listen', () => {
  it('takes loopback host:port', () => {
    expect(parseProxyListen('127.0.0.1:8001')).toEqual({ host: '127.0.0.1', port: 8001, loopback: true });
    expect(parseProxyListen('[::1]:0')).toEqual({ host: '::1', port: 0, loopback: true });
    expect(parseProxyListen('localhost:9000')).toEqual({ host: 'localhost', port: 9000, loopback: true });
  });

  it('takes any other address as not loopback (the proxy then serves TLS), unless only loopback is allowed', () => {
    expect(parseProxyListen('0.0.0.0:8001')).toEqual({ host: '0.0.0.0', port: 8001, loopback: false });
    expect(parseProxyListen('[fd00::1]:8001')).toEqual({ host: 'fd00::1', port: 8001, loopback: false });
    expect(() => parseProxyListen('10.1.2.3:8001', '--ingest', true)).toThrow(UserError);
    expect(() => parseProxyListen('10.1.2.3:8001', '--ingest', true)).toThrow(/--ingest 10\.1\.2\.3:8001: only loopback/);
    expect(() => parseProxyListen('8001')).toThrow(/host:port/);
    expect(() => parseProxyListen('127.0.0.1:70000')).toThrow(/out of range/);
  });
});
