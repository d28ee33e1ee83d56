import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../test/temp.js';
import { credentialsFor, loadKubeConfig } from './kubeconfig.js';

const tempDir = useTempDir();

function kubeconfig(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
}

const base = (context: string, extra = '') => `
apiVersion: v1
kind: Config
current-context: ${context}
clusters:
- name: prod
  cluster:
    server: https://prod.example.com:6443
    certificate-authority: certs/ca.crt
- name: dev
  cluster:
    server: https://dev.example.com
    insecure-skip-tls-verify: true
    tls-server-name: kubernetes
users:
- name: alice
  user:
    tokenFile: tokens/alice
- name: bob
  user:
    token: bob-token
    as: system:serviceaccount:ops:viewer
contexts:
- name: prod
  context: {cluster: prod, user: alice, namespace: web}
- name: dev
  context: {cluster: dev, user: bob}
${extra}`;

describe('loadKubeConfig', () => {
  it('reads --kubeconfig, resolving relative paths against the file, and applies --context', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'certs'));
    mkdirSync(join(dir, 'tokens'));
    writeFileSync(join(dir, 'certs', 'ca.crt'), 'CA PEM');
    writeFileSync(join(dir, 'tokens', 'alice'), 'alice-token\n');
    const file = kubeconfig(dir, 'config', base('prod'));
    const prod = loadKubeConfig({ kubeconfig: file, env: {} });
    expect(prod).toMatchObject({ contextName: 'prod', namespace: 'web', source: file, cluster: { server: 'https://prod.example.com:6443', insecureSkipTlsVerify: false } });
    expect(prod.cluster.ca!.toString()).toBe('CA PEM');
    expect(await credentialsFor(prod).headers()).toEqual({ Authorization: 'Bearer alice-token' });

    const dev = loadKubeConfig({ kubeconfig: file, context: 'dev', env: {} });
    expect(dev.cluster).toMatchObject({ insecureSkipTlsVerify: true, tlsServerName: 'kubernetes' });
    expect(await credentialsFor(dev).headers()).toEqual({ Authorization: 'Bearer bob-token', 'Impersonate-User': 'system:serviceaccount:ops:viewer' });
    expect(() => loadKubeConfig({ kubeconfig: file, context: 'staging', env: {} })).toThrow(/context "staging" is not in/);
  });

  it('merges $KUBECONFIG files: the first definition of a name wins, and the first current-context', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ca.crt'), 'x');
    const first = kubeconfig(dir, 'a', `current-context: mine\nclusters:\n- name: c\n  cluster: {server: https://first}\ncontexts:\n- name: mine\n  context: {cluster: c}\n`);
    const second = kubeconfig(dir, 'b', `current-context: other\nclusters:\n- name: c\n  cluster: {server: https://second}\n- name: d\n  cluster: {server: https://d}\ncontexts:\n- name: other\n  context: {cluster: d}\n`);
    const merged = loadKubeConfig({ env: { KUBECONFIG: `${first}:${join(dir, 'missing')}:${second}` } });
    expect(merged).toMatchObject({ contextName: 'mine', cluster: { server: 'https://first' } });
    expect(loadKubeConfig({ env: { KUBECONFIG: `${first}:${second}` }, context: 'other' }).cluster.server).toBe('https://d');
  });

  it('falls back to ~/.kube/config, then to the in-cluster service account', async () => {
    const home = tempDir();
    mkdirSync(join(home, '.kube'));
    kubeconfig(join(home, '.kube'), 'config', `current-context: x\nclusters:\n- name: c\n  cluster: {server: https://home}\ncontexts:\n- name: x\n  context: {cluster: c}\n`);
    expect(loadKubeConfig({ env: { HOME: home } }).cluster.server).toBe('https://home');

    const sa = tempDir();
    writeFileSync(join(sa, 'token'), 'sa-token-1');
    writeFileSync(join(sa, 'ca.crt'), 'SA CA');
    writeFileSync(join(sa, 'namespace'), 'ops\n');
    const env = { HOME: tempDir(), KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
    const pod = loadKubeConfig({ env, serviceAccountDir: sa });
    expect(pod).toMatchObject({ contextName: 'in-cluster', namespace: 'ops', source: 'in-cluster service account', cluster: { server: 'https://10.0.0.1:443' } });
    let now = 0;
    const credentials = credentialsFor(pod, () => now);
    expect(await credentials.headers()).toEqual({ Authorization: 'Bearer sa-token-1' });
    writeFileSync(join(sa, 'token'), 'sa-token-2');
    now = 30_000;
    expect(await credentials.headers()).toEqual({ Authorization: 'Bearer sa-token-1' });
    now = 61_000; // re-read every minute: a rotated token is picked up
    expect(await credentials.headers()).toEqual({ Authorization: 'Bearer sa-token-2' });

    expect(() => loadKubeConfig({ env: { HOME: tempDir() }, serviceAccountDir: tempDir() })).toThrow(/no Kubernetes credentials found/);
  });

  it('runs exec credential plugins, caching the token until it expires', async () => {
    const dir = tempDir();
    const counter = join(dir, 'runs');
    writeFileSync(counter, '');
    const plugin = join(dir, 'plugin.sh');
    writeFileSync(
      plugin,
      `#!/bin/sh\necho run >> "${counter}"\nn=$(wc -l < "${counter}")\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-%s-%s","expirationTimestamp":"2026-11-25T10:10:00Z"}}' "$PLUGIN_ENV" "$n"\n`,
    );
    chmodSync(plugin, 0o755);
    const file = kubeconfig(
      dir,
      'config',
      `current-context: x\nclusters:\n- name: c\n  cluster: {server: https://eks}\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./plugin.sh\n      env: [{name: PLUGIN_ENV, value: v}]\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n`,
    );
    let now = Date.parse('2026-11-25T10:00:00Z');
    const credentials = credentialsFor(loadKubeConfig({ kubeconfig: file, env: {} }), () => now);
    expect(await credentials.headers()).toEqual({ Authorization: 'Bearer exec-v-1' });
    expect(await credentials.headers()).toEqual({ Authorization: 'Bearer exec-v-1' });
    now = Date.parse('2026-11-25T10:09:45Z'); // within 30 s of expiry: refresh
    expect(await credentials.headers()).toEqual({ Authorization: 'Bearer exec-v-2' });
    expect(readFileSync(counter, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('refuses the removed auth-provider plugins with a hint, and names bad fields', () => {
    const dir = tempDir();
    const legacy = kubeconfig(dir, 'legacy', `current-context: x\nclusters:\n- name: c\n  cluster: {server: https://gke}\nusers:\n- name: u\n  user:\n    auth-provider: {name: gcp}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n`);
    expect(() => loadKubeConfig({ kubeconfig: legacy, env: {} })).toThrow(/auth-provider "gcp" plugin, which kubectl removed/);
    const bad = kubeconfig(dir, 'bad', `clusters:\n- name: c\n  cluster: {server: 42}\n`);
    expect(() => loadKubeConfig({ kubeconfig: bad, env: {} })).toThrow(/kubeconfig .*bad: clusters\.0\.cluster\.server/);
  });
});
