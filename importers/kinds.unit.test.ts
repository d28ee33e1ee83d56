import { describe, expect, it } from 'vitest';
import { builtinKind, guessKind, guessResource } from './kinds.js';

describe('kind and resource guesses', () => {
  it.each([
    ['Deployment', 'deployments'],
    ['Pod', 'pods'],
    ['Endpoints', 'endpoints'],
    ['EndpointSlice', 'endpointslices'],
    ['Ingress', 'ingresses'],
    ['IngressClass', 'ingressclasses'],
    ['NetworkPolicy', 'networkpolicies'],
    ['PodSecurityPolicy', 'podsecuritypolicies'],
    ['StorageClass', 'storageclasses'],
    ['ComponentStatus', 'componentstatuses'],
    ['Gateway', 'gateways'],
    ['Proxy', 'proxies'],
    ['Mailbox', 'mailboxes'],
  ])('guesses the resource of %s: %s', (kind, resource) => {
    expect(guessResource(kind)).toBe(resource);
  });

  it('knows the kinds of built-in resources, keyed by group', () => {
    expect(builtinKind('apps', 'deployments')).toBe('Deployment');
    expect(builtinKind('', 'endpoints')).toBe('Endpoints');
    expect(builtinKind('', 'deployments')).toBeUndefined();
    expect(builtinKind('networking.k8s.io', 'networkpolicies')).toBe('NetworkPolicy');
  });

  it.each([
    ['foos', 'Foo'],
    ['policies', 'Policy'],
    ['ingresses', 'Ingress'],
    ['webapps', 'Webapp'],
    ['statuses', 'Status'],
    ['storageclasses', 'Storageclass'],
  ])('falls back to a capitalised singular for %s: %s', (resource, kind) => {
    expect(guessKind(resource)).toBe(kind);
  });
});
