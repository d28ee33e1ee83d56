import { describe, expect, it } from 'vitest';
import { REDACTED, redactObject } from './redact.js';

describe('redactObject', () => {
  it('removes Secret data and stringData values but keeps keys and sizes', () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'prod', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"password":"aHVudGVyMg=="}}' } },
      type: 'Opaque',
      data: { password: 'aHVudGVyMg==' },
      stringData: { token: 's3cr3t' },
    };
    const redacted = redactObject(secret);
    const text = JSON.stringify(redacted);
    expect(text).not.toContain('aHVudGVyMg==');
    expect(text).not.toContain('s3cr3t');
    expect(redacted.data).toEqual({ password: `${REDACTED} 12 chars` });
    expect(secret.data.password).toBe('aHVudGVyMg==');
  });

  it('is idempotent: redacting a redacted object changes nothing', () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, data: { password: 'aHVudGVyMg==' } };
    const once = redactObject(secret);
    expect(redactObject(once)).toEqual(once);
  });

  it('leaves other kinds alone unless extra paths are configured', () => {
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { key: 'value' }, spec: { credentials: { password: 'p' } } };
    expect(redactObject(configMap)).toBe(configMap);
    expect(redactObject(configMap, ['spec.credentials.password'])).toMatchObject({ data: { key: 'value' }, spec: { credentials: { password: REDACTED } } });
  });
});
