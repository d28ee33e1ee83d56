import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';
import { rbacFor } from './rbac.js';

describe('rbacFor', () => {
  it('gives a Role per namespace for namespaced resources and a ClusterRole for cluster-wide or cluster-scoped ones', () => {
    const config = parseConfig({
      resources: [
        { version: 'v1', resource: 'configmaps', namespaces: ['b', 'a'] },
        { group: 'apps', version: 'v1', resource: 'deployments', namespaces: ['a'] },
        { group: 'example.com', version: 'v1', resource: 'widgets' },
        { version: 'v1', resource: 'namespaces', namespaces: ['a'] },
        { group: 'example.com', version: 'v1', resource: 'clusterthings', namespaces: ['a'], scope: 'Cluster' },
      ],
    });
    const objects = rbacFor(config, { namespace: 'ops', name: 'op' });
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}`)).toEqual(['ClusterRole/', 'ClusterRoleBinding/', 'Role/a', 'RoleBinding/a', 'Role/b', 'RoleBinding/b']);
    expect(objects[0]!.rules).toEqual([
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['example.com'], resources: ['clusterthings', 'widgets'], verbs: ['get', 'list', 'watch'] },
    ]);
    expect(objects[2]!.rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'] },
    ]);
    expect(objects[3]).toMatchObject({ roleRef: { kind: 'Role', name: 'kreplay-recorder' }, subjects: [{ kind: 'ServiceAccount', name: 'op', namespace: 'ops' }] });
    expect(JSON.stringify(objects)).not.toMatch(/create|update|delete|patch|\*/);
  });
});
