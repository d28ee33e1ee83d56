import { describe, expect, it } from 'vitest';
import { ApiGroup, ApiVersionName, KindName, NamespaceName, ObjectName, ResourceName, SessionRecord, boundedText } from './index.js';

function firstIssue(schema: { safeParse(value: unknown): { success: boolean; error?: { issues: { message: string }[] } } }, value: unknown): string | undefined {
  const result = schema.safeParse(value);
  return result.success ? undefined : result.error!.issues[0]!.message;
}

describe('what Kubernetes guarantees about names', () => {
  it('accepts the names real clusters use', () => {
    for (const name of ['web', 'web-7d4b9c8f6-x2x9k', 'pod.17a3b2c1d4e5f6a7', 'system:controller:deployment-controller', 'system:kube-scheduler', '*', 'Mixed_Case~ok', 'a'.repeat(253)]) {
      expect(firstIssue(ObjectName, name), name).toBeUndefined();
    }
    for (const ns of ['default', 'kube-system', 'a'.repeat(63), '0abc']) expect(firstIssue(NamespaceName, ns), ns).toBeUndefined();
    for (const group of ['', 'apps', 'rbac.authorization.k8s.io', 'example.com']) expect(firstIssue(ApiGroup, group), group).toBeUndefined();
    for (const version of ['v1', 'v1beta2', 'v2alpha1', 'v1beta1']) expect(firstIssue(ApiVersionName, version), version).toBeUndefined();
    for (const kind of ['Deployment', 'ConfigMap', 'PodDisruptionBudget', 'CassandraCluster']) expect(firstIssue(KindName, kind), kind).toBeUndefined();
    for (const resource of ['deployments', 'configmaps', 'cassandraclusters', 'rabbitmq-clusters']) expect(firstIssue(ResourceName, resource), resource).toBeUndefined();
  });

  it('refuses what the API server never sends, saying why', () => {
    expect(firstIssue(ObjectName, 'x'.repeat(100_000))).toBe('a name is at most 253 characters (got 100000)');
    expect(firstIssue(ObjectName, 'a/b')).toMatch(/may not contain "\/" or "%"/);
    expect(firstIssue(ObjectName, '50%')).toMatch(/may not contain "\/" or "%"/);
    expect(firstIssue(ObjectName, '..')).toBe('a name may not be ".."');
    expect(firstIssue(ObjectName, 'web\u001b[31m')).toBe('a name may not contain a control character (U+001B)');
    expect(firstIssue(ObjectName, '')).toBe('a name cannot be empty');
    expect(firstIssue(NamespaceName, 'Default')).toMatch(/is not a namespace/);
    expect(firstIssue(NamespaceName, 'a'.repeat(64))).toBe('a namespace is at most 63 characters (got 64)');
    expect(firstIssue(KindName, 'Deplo\u0007yment')).toMatch(/is not a kind/);
    expect(firstIssue(KindName, 'Deplµyment')).toMatch(/is not a kind/);
    expect(firstIssue(KindName, 'Deploy%ment')).toMatch(/is not a kind/);
    expect(firstIssue(ApiGroup, 'Apps')).toMatch(/is not an API group/);
    expect(firstIssue(ApiVersionName, '1')).toMatch(/is not an API version/);
    expect(firstIssue(ResourceName, 'pods/status')).toMatch(/is not a resource/);
  });

  it('bounds free text and refuses NUL, C1 controls and lone surrogates but not line breaks in messages', () => {
    const controller = boundedText('a controller name', 1024, { min: 1 });
    expect(firstIssue(controller, 'web\u0000')).toBe('a controller name may not contain a NUL character (U+0000)');
    expect(firstIssue(controller, 'web\ud800x')).toBe('a controller name may not contain a lone surrogate (U+D800)');
    expect(firstIssue(controller, 'web\u009b')).toBe('a controller name may not contain a control character (U+009B)');
    expect(firstIssue(controller, 'web 😀 ü')).toBeUndefined();
    expect(firstIssue(controller, 'x'.repeat(1025))).toBe('a controller name is at most 1024 characters (got 1025)');
    const message = boundedText('a message', 32768, { lineBreaks: true });
    expect(firstIssue(message, 'admission webhook denied:\n\tspec.replicas: Invalid value')).toBeUndefined();
    expect(firstIssue(message, 'bell\u0007')).toBe('a message may not contain a control character (U+0007)');
  });

  it('names the field of the record that broke the rule', () => {
    const result = SessionRecord.safeParse({
      record: 'delivery',
      observedAt: '2026-01-01T00:00:00Z',
      origin: 'ingest',
      controller: 'web',
      handler: 'add',
      object: { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'default', name: 'x'.repeat(300) },
      resourceVersion: '1',
    });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path).toEqual(['object', 'name']);
  });
});
