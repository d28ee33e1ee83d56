import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateProxyTls } from './tls.js';

describe('generateProxyTls', () => {
  it('a CA, a serving certificate for the hosts it names and a client certificate, each signed by the CA', () => {
    const tls = generateProxyTls({ hosts: ['10.1.2.3', 'fd00::17', 'proxy.example', '127.0.0.1', 'localhost'], now: new Date('2026-12-07T00:00:00Z') });
    const ca = new X509Certificate(tls.caPem);
    const server = new X509Certificate(tls.serverCertPem);
    const client = new X509Certificate(tls.clientCertPem);
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.checkIP('10.1.2.3')).toBe('10.1.2.3');
    expect(server.checkIP('fd00::17')).toBeTruthy();
    expect(server.checkIP('10.1.2.4')).toBeUndefined();
    expect(server.checkHost('proxy.example')).toBe('proxy.example');
    expect(server.checkHost('other.example')).toBeUndefined();
    expect(server.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(client.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(server.subject).toBe('CN=kreplay proxy');
    expect(server.issuer).toBe('CN=kreplay proxy CA');
    expect(new Date(server.validFrom).toISOString()).toBe('2026-12-06T23:00:00.000Z');
    expect(new Date(server.validTo).getTime()).toBe(Date.parse('2026-12-07T00:00:00Z') + 30 * 86_400_000);
    // The keys are the certificates' own.
    expect(createPublicKey(createPrivateKey(tls.serverKeyPem)).export({ type: 'spki', format: 'der' })).toEqual(server.publicKey.export({ type: 'spki', format: 'der' }));
    expect(createPublicKey(createPrivateKey(tls.clientKeyPem)).export({ type: 'spki', format: 'der' })).toEqual(client.publicKey.export({ type: 'spki', format: 'der' }));
    // Another run's CA does not vouch for these.
    expect(server.verify(new X509Certificate(generateProxyTls({ hosts: ['localhost'] }).caPem).publicKey)).toBe(false);
  });
});
