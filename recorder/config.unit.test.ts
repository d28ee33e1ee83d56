import { describe, expect, it } from 'vitest';
import { ConfigError, configForSession, controllerUsernames, isClusterScoped, parseConfig, parseConfigText, parseDuration, parseSize } from './config.js';
import { CheckConfig } from '../model/check-config.js';

describe('durations and sizes', () => {
  it('parses durations with units and rejects bare numbers', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('30')).toBeUndefined();
    expect(parseDuration(30)).toBeUndefined();
    expect(parseDuration('5 minutes')).toBeUndefined();
    // Zero needs no unit.
    expect(parseDuration(0)).toBe(0);
    expect(parseDuration('0')).toBe(0);
  });

  it('parses Kubernetes quantities and byte units', () => {
    expect(parseSize('512Mi')).toBe(512 * 1024 ** 2);
    expect(parseSize('2GB')).toBe(2e9);
    expect(parseSize('1Gi')).toBe(1024 ** 3);
    expect(parseSize(4096)).toBe(4096);
    expect(parseSize('lots')).toBeUndefined();
  });
});

describe('parseConfig', () => {
  it('applies defaults and normalises resources (shorthand, apiVersion, group+version)', () => {
    const config = parseConfig({
      resources: ['apps/v1/deployments', 'v1/configmaps', { apiVersion: 'example.com/v1', resource: 'widgets', namespaces: ['a', 'a', 'b'] }, { group: 'batch', version: 'v1', resource: 'jobs', namespaces: [] }],
      namespaces: ['team'],
    });
    expect(config.resources).toEqual([
      { group: 'apps', version: 'v1', resource: 'deployments', namespaces: ['team'], labelSelector: undefined, fieldSelector: undefined, scope: undefined },
      { group: '', version: 'v1', resource: 'configmaps', namespaces: ['team'], labelSelector: undefined, fieldSelector: undefined, scope: undefined },
      { group: 'example.com', version: 'v1', resource: 'widgets', namespaces: ['a', 'b'], labelSelector: undefined, fieldSelector: undefined, scope: undefined },
      { group: 'batch', version: 'v1', resource: 'jobs', namespaces: null, labelSelector: undefined, fieldSelector: undefined, scope: undefined },
    ]);
    expect(config.writer).toEqual({ flushInterval: 100, batchSize: 500, queueSize: 5_000 });
    expect(config.server).toMatchObject({ listen: '127.0.0.1:9477', maxBodySize: 4 * 1024 ** 2 });
    expect(config.watch).toMatchObject({ timeout: 300_000, inactivityTimeout: 150_000, readInterval: 50, initialBackoff: 800, maxBackoff: 30_000 });
    expect(parseConfig({ resources: ['v1/configmaps'], watch: { readInterval: 0 } }).watch.readInterval).toBe(0);
    expect(config.audit).toEqual({ enabled: true, scope: 'watched' });
  });

  it('names the path and the problem of every mistake', () => {
    const attempt = () =>
      parseConfig({ resources: [{ resource: 'Deployments' }], writer: { flushInterval: '1s' }, watch: { readInterval: '1s' }, retention: { maxSize: 'huge' }, typo: 1 });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/resources\[0\]\.resource: a resource is the plural lower-case name/);
      expect(problems).toMatch(/resources\[0\]\.version: a resource needs a version/);
      expect(problems).toMatch(/writer\.flushInterval: flushInterval is at most 250ms/);
      expect(problems).toMatch(/watch\.readInterval: readInterval is at most 200ms/);
      expect(problems).toMatch(/retention\.maxSize: "huge" is not a size/);
      expect(problems).toMatch(/\(top level\): Unrecognized key: "typo"/);
    }
  });

  it('takes no resources only for an audit-webhook-only recorder', () => {
    expect(parseConfig({ resources: [], audit: { scope: 'all' } })).toMatchObject({ resources: [], audit: { enabled: true, scope: 'all' } });
    expect(() => parseConfig({ resources: [], audit: { enabled: false } })).toThrow(/resources: name at least one resource to watch/);
  });

  it('explains a bad shorthand', () => {
    expect(() => parseConfig({ resources: ['v1/configmaps', 'apps/deployments/x/y'] })).toThrow(/resources\[1\]: "apps\/deployments\/x\/y" is not group\/version\/resource/);
  });

  it('reports YAML problems with line numbers', () => {
    const text = ['resources:', '  - v1/configmaps', 'writer:', '  batchSize: lots', ''].join('\n');
    expect(() => parseConfigText(text, 'rec.yaml')).toThrow(/rec\.yaml is not a valid recorder configuration:\n {2}writer\.batchSize \(line 4\): /);
    expect(() => parseConfigText('resources: [v1/configmaps\n', 'bad.yaml')).toThrow(/bad\.yaml .*\n {2}line \d+, column \d+:/);
  });

  it('refuses a resource listed twice', () => {
    expect(() => parseConfig({ resources: ['v1/configmaps', { version: 'v1', resource: 'configmaps', namespaces: ['x'] }] })).toThrow(/configmaps is listed twice/);
  });

  it('knows the controller identities and keeps the token out of the session', () => {
    const config = parseConfig({
      resources: ['v1/configmaps'],
      controller: { username: 'alice', serviceAccount: { namespace: 'ops', name: 'op' } },
      server: { token: 'a-very-long-secret-token' },
    });
    expect(controllerUsernames(config)).toEqual(['alice', 'system:serviceaccount:ops:op']);
    expect(JSON.stringify(configForSession(config))).not.toContain('a-very-long-secret-token');
  });

  it('knows which resources are cluster-scoped', () => {
    expect(isClusterScoped({ group: '', resource: 'namespaces' })).toBe(true);
    expect(isClusterScoped({ group: 'rbac.authorization.k8s.io', resource: 'clusterroles' })).toBe(true);
    expect(isClusterScoped({ group: '', resource: 'configmaps' })).toBe(false);
    expect(isClusterScoped({ group: 'example.com', resource: 'things', scope: 'Cluster' })).toBe(true);
  });
});

describe('check: section', () => {
  const resources = [{ version: 'v1', resource: 'configmaps' }];
  it('is kreplay check --config, parsed by the same schema', () => {
    const input = { thresholds: { finalizerTimeout: '2m', hotLoopWrites: 20 }, skip: ['reconcile-lag'], suppress: [{ namespace: 'kube-system', reason: 'system' }] };
    expect(parseConfig({ resources, check: input }).check).toEqual(CheckConfig.parse(input));
    expect(parseConfig({ resources }).check).toEqual(CheckConfig.parse({}));
  });
  it('names what is wrong and where', () => {
    expect(() => parseConfig({ resources, check: { thresholds: { finalizerTimeout: 'soon' } } })).toThrow(/check\.thresholds\.finalizerTimeout: "soon" is not a duration/);
    expect(() => parseConfig({ resources, check: { failsOn: 'error' } })).toThrow(/check/);
  });
});

describe('detection: section', () => {
  const resources = [{ version: 'v1', resource: 'configmaps' }];
  it('paces online detection at a tenth of a core, a run a second at most, unless told otherwise', () => {
    expect(parseConfig({ resources }).detection).toEqual({ cpuShare: 0.1, minInterval: 1_000, heapShare: 0.7 });
    expect(parseConfig({ resources, detection: { cpuShare: 0.03 } }).detection).toEqual({ cpuShare: 0.03, minInterval: 1_000, heapShare: 0.7 });
    expect(parseConfig({ resources, detection: { minInterval: '5s' } }).detection).toEqual({ cpuShare: 0.1, minInterval: 5_000, heapShare: 0.7 });
    expect(parseConfig({ resources, detection: { heapShare: 0.5 } }).detection).toEqual({ cpuShare: 0.1, minInterval: 1_000, heapShare: 0.5 });
  });
  it('names what is wrong and where', () => {
    expect(() => parseConfig({ resources, detection: { cpuShare: 0 } })).toThrow(/detection\.cpuShare: detection\.cpuShare is a share of one core: more than 0/);
    expect(() => parseConfig({ resources, detection: { cpuShare: 2 } })).toThrow(/detection\.cpuShare: .*at most 1/);
    expect(() => parseConfig({ resources, detection: { minInterval: '10ms' } })).toThrow(/detection\.minInterval: detection\.minInterval is between 100ms and 10m/);
    expect(() => parseConfig({ resources, detection: { share: 0.1 } })).toThrow(/detection.*Unrecognized key: "share"/);
    expect(() => parseConfig({ resources, detection: { heapShare: 1 } })).toThrow(/detection\.heapShare: .*at most 0\.95/);
    expect(() => parseConfig({ resources, detection: { heapShare: 0 } })).toThrow(/detection\.heapShare: .*more than 0/);
  });
});
