import { describe, expect, it } from 'vitest';
import { resolveResourceName, type CatalogGroup } from './resource-names.js';

// Discovery as a v1.36 API server serves it (trimmed), with sample-controller's CRD installed.
const catalog: CatalogGroup[] = [
  {
    group: '',
    version: 'v1',
    resources: [
      { name: 'configmaps', singularName: 'configmap', kind: 'ConfigMap', shortNames: ['cm'], namespaced: true },
      { name: 'namespaces', singularName: 'namespace', kind: 'Namespace', shortNames: ['ns'], namespaced: false },
      { name: 'pods', singularName: 'pod', kind: 'Pod', shortNames: ['po'], namespaced: true },
      { name: 'pods/status', singularName: '', kind: 'Pod', namespaced: true },
    ],
  },
  { group: 'apps', version: 'v1', resources: [{ name: 'deployments', singularName: 'deployment', kind: 'Deployment', shortNames: ['deploy'], namespaced: true }] },
  { group: 'events.k8s.io', version: 'v1', resources: [{ name: 'events', singularName: 'event', kind: 'Event', shortNames: ['ev'], namespaced: true }] },
  { group: 'samplecontroller.k8s.io', version: 'v1alpha1', resources: [{ name: 'foos', singularName: 'foo', kind: 'Foo', shortNames: ['fo'], namespaced: true }] },
];

const ok = (arg: string) => {
  const outcome = resolveResourceName(arg, catalog);
  if (!outcome.ok) throw new Error(outcome.message);
  return `${outcome.resource.group}/${outcome.resource.version}/${outcome.resource.resource}${outcome.resource.namespaced ? '' : ' (cluster)'}`;
};
const fails = (arg: string) => {
  const outcome = resolveResourceName(arg, catalog);
  if (outcome.ok) throw new Error(`${arg} resolved`);
  return outcome.message;
};

describe('kubectl resource names', () => {
  it('resolves plurals, singulars, short names and kinds in the API server group order', () => {
    expect(ok('cm')).toBe('/v1/configmaps');
    expect(ok('deploy')).toBe('apps/v1/deployments');
    expect(ok('Deployment')).toBe('apps/v1/deployments');
    expect(ok('foo')).toBe('samplecontroller.k8s.io/v1alpha1/foos');
    expect(ok('ns')).toBe('/v1/namespaces (cluster)');
  });

  it('resolves resource.group and resource.version.group', () => {
    expect(ok('deployments.apps')).toBe('apps/v1/deployments');
    expect(ok('foos.samplecontroller.k8s.io')).toBe('samplecontroller.k8s.io/v1alpha1/foos');
    expect(ok('fo.samplecontroller.k8s.io')).toBe('samplecontroller.k8s.io/v1alpha1/foos');
    expect(ok('deployments.v1.apps')).toBe('apps/v1/deployments');
    expect(ok('events.events.k8s.io')).toBe('events.k8s.io/v1/events');
  });

  it('never resolves a subresource, and says what is close', () => {
    expect(fails('deploymnts')).toBe('the API server serves no resource "deploymnts"; did you mean deployments.apps?');
    expect(fails('foos.apps')).toBe('apps serves no resource "foos"');
    expect(fails('deployment.app')).toBe('the API server serves no group "app" (for "deployment.app"); did you mean deployments.apps?');
    expect(fails('widgets')).toContain('kubectl api-resources');
    expect(fails('pods/status')).toContain('is not a resource name');
  });
});
