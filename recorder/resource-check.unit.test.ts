import { describe, expect, it } from 'vitest';
import { isBuiltinGroup, suggestResource, type ServedResource } from './resource-check.js';

// apps/v1 as kube-apiserver serves it (kubectl get --raw /apis/apps/v1), abridged.
const appsV1: ServedResource[] = [
  { name: 'daemonsets', singularName: 'daemonset', kind: 'DaemonSet', shortNames: ['ds'] },
  { name: 'deployments', singularName: 'deployment', kind: 'Deployment', shortNames: ['deploy'] },
  { name: 'deployments/scale', singularName: '', kind: 'Scale' },
  { name: 'replicasets', singularName: 'replicaset', kind: 'ReplicaSet', shortNames: ['rs'] },
  { name: 'statefulsets', singularName: 'statefulset', kind: 'StatefulSet', shortNames: ['sts'] },
];

describe('suggestResource', () => {
  it('finds the plural for a singular, a kind, a short name, another case or a typo', () => {
    expect(suggestResource('deployment', appsV1)).toBe('deployments');
    expect(suggestResource('Deployment', appsV1)).toBe('deployments');
    expect(suggestResource('deploy', appsV1)).toBe('deployments');
    expect(suggestResource('sts', appsV1)).toBe('statefulsets');
    expect(suggestResource('deplyments', appsV1)).toBe('deployments');
    expect(suggestResource('replicaset', appsV1)).toBe('replicasets');
    // The fake API server (and older servers) leave singularName empty: the plural rule still finds it.
    expect(suggestResource('widget', [{ name: 'widgets', singularName: '' }])).toBe('widgets');
    expect(suggestResource('ingress', [{ name: 'ingresses', singularName: '' }])).toBe('ingresses');
  });

  it('suggests nothing for a name that resembles nothing served, and never a subresource', () => {
    expect(suggestResource('pods', appsV1)).toBeUndefined();
    expect(suggestResource('scale', appsV1)).toBeUndefined();
    expect(suggestResource('cats', [{ name: 'dogs' }])).toBeUndefined();
    // In a CRD's group another CRD may yet come: only one edit, in a longer name, is a typo there.
    expect(suggestResource('gadgets', [{ name: 'widgets' }], 'loose')).toBe('widgets');
    expect(suggestResource('gadgets', [{ name: 'widgets' }], 'strict')).toBeUndefined();
    expect(suggestResource('widgts', [{ name: 'widgets' }], 'strict')).toBe('widgets');
  });
});

describe('isBuiltinGroup', () => {
  it('is true for groups no CRD can add to, false for CRD groups, *.k8s.io ones included', () => {
    expect(['', 'apps', 'batch', 'policy', 'rbac.authorization.k8s.io', 'networking.k8s.io'].every(isBuiltinGroup)).toBe(true);
    expect(['example.kreplay.dev', 'gateway.networking.k8s.io', 'snapshot.storage.k8s.io'].some(isBuiltinGroup)).toBe(false);
  });
});
