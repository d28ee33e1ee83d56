import { describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { parseProxyListen } from './proxy.js';

describe('kreplay proxy --listen', () => {
  it('takes loopback host:port', () => {
    expect(parseProxyListen('127.0.0.1:8001')).toEqual({ host: '127.0.0.1', port: 8001 });
    expect(parseProxyListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseProxyListen('localhost:9000')).toEqual({ host: 'localhost', port: 9000 });
  });

  it('refuses anything that is not loopback, saying why', () => {
    expect(() => parseProxyListen('0.0.0.0:8001')).toThrow(UserError);
    expect(() => parseProxyListen('0.0.0.0:8001')).toThrow(/only listens on loopback/);
    expect(() => parseProxyListen('10.1.2.3:8001')).toThrow(/loopback/);
    expect(() => parseProxyListen('8001')).toThrow(/host:port/);
    expect(() => parseProxyListen('127.0.0.1:70000')).toThrow(/out of range/);
  });
});
