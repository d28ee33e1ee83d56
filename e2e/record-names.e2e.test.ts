// `kreplay record` named like kubectl, without a config file, against the real kube-apiserver: a core short name
// (cm), resource.group (deployments.apps, foos.samplecontroller.k8s.io: sample-controller's CRD) and a CRD's short
// name are resolved through discovery and watched; the controller's identity comes from flags; a name the server
// does not serve fails before anything is recorded, with the closest served name.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredRecord } from '../model/index.js';
import { openStore } from '../store/index.js';
import { eventually, useE2e } from './harness.js';
import { freePort, recorderHealth } from './recorder-process.js';

const e2e = useE2e('record-names');
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const group = `n${randomBytes(3).toString('hex')}.e2e.kreplay.dev`;
const shortName = `gz${randomBytes(2).toString('hex')}`;
let workDir: string;

function kreplay(args: readonly string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/run.ts', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: '' } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, log: () => output };
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'kreplay-names-'));
  await e2e.cluster.apiextensions.createCustomResourceDefinition({
    body: {
      metadata: { name: `gizmos.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'gizmos', singular: 'gizmo', kind: 'Gizmo', shortNames: [shortName] },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } }],
      },
    },
  });
  await eventually(async () => {
    const crd = await e2e.cluster.apiextensions.readCustomResourceDefinition({ name: `gizmos.${group}` });
    if (crd.status?.conditions?.find((c) => c.type === 'Established')?.status !== 'True') throw new Error('CRD not Established yet');
  });
});

afterAll(async () => {
  await e2e.cluster.apiextensions.deleteCustomResourceDefinition({ name: `gizmos.${group}` }).catch(() => undefined);
  rmSync(workDir, { recursive: true, force: true });
});

describe('kreplay record with kubectl names', () => {
  it('resolves cm, deployments.apps, a CRD by resource.group and by short name, and records them in -n', async () => {
    const db = path.join(workDir, 'names.db');
    const port = await freePort();
    const recorder = kreplay([
      '--db', db, 'record', 'cm', 'deployments.apps', 'foos.samplecontroller.k8s.io', shortName,
      '-n', e2e.namespace, '--kubeconfig', e2e.cluster.paths.kubeconfig, '-s', 'names', '--listen', `127.0.0.1:${port}`,
      '--controller-service-account', `${e2e.namespace}/sample-controller`, '--controller-name', 'sample-controller',
    ]);
    try {
      const watches = await eventually(async () => {
        const readyz = await recorderHealth(port);
        if (!readyz) throw new Error(`the recorder does not answer yet\n${recorder.log().slice(-2000)}`);
        const list = readyz.body['watches'] as { resource: string; synced: boolean }[];
        if (list.length < 4 || list.some((w) => !w.synced)) throw new Error(`not synced yet: ${JSON.stringify(list)}`);
        return list.map((w) => w.resource).sort();
      }, 60_000, 500);
      expect(watches.join(' ')).toMatch(/configmaps/);
      expect(watches.join(' ')).toMatch(/deployments/);
      expect(watches.join(' ')).toMatch(/foos/);
      expect(watches.join(' ')).toMatch(/gizmos/);
      const cm = await e2e.cluster.core.createNamespacedConfigMap({ namespace: e2e.namespace, body: { metadata: { name: 'named' }, data: { a: '1' } } });
      await eventually(async () => {
        const store = openStore(db, { readonly: true });
        try {
          const session = store.findSession('names')!;
          const records: StoredRecord[] = [...store.records(session.id)];
          if (!records.some((r) => r.record === 'watch' && r.resourceVersion === cm.metadata?.resourceVersion)) throw new Error('configmap not recorded yet');
        } finally {
          store.close();
        }
      }, 30_000, 250);
    } finally {
      recorder.child.kill('SIGTERM');
    }
    expect(await recorder.exited).toBe(0);
    const store = openStore(db, { readonly: true });
    try {
      const session = store.findSession('names')!;
      const config = session.config as { resources: { group: string; version: string; resource: string; namespaces: string[] | null }[]; controller: Record<string, unknown> };
      expect(config.resources.map((r) => `${r.group}/${r.version}/${r.resource}`)).toEqual([
        '/v1/configmaps',
        'apps/v1/deployments',
        'samplecontroller.k8s.io/v1alpha1/foos',
        `${group}/v1/gizmos`,
      ]);
      expect(config.resources.every((r) => r.namespaces?.join() === e2e.namespace)).toBe(true);
      expect(config.controller).toEqual({ name: 'sample-controller', serviceAccount: { namespace: e2e.namespace, name: 'sample-controller' } });
    } finally {
      store.close();
    }
  });

  it('fails fast on a name the API server does not serve, with the closest one it does', async () => {
    const db = path.join(workDir, 'bad.db');
    const started = Date.now();
    const run = kreplay(['--db', db, 'record', 'deploymnts', 'cm', '-n', e2e.namespace, '--kubeconfig', e2e.cluster.paths.kubeconfig, '--listen', `127.0.0.1:${await freePort()}`]);
    const code = await run.exited;
    expect(code).toBe(2);
    expect(run.log()).toContain('deploymnts: the API server serves no resource "deploymnts"; did you mean deployments.apps?');
    // Discovery only: no session was started.
    expect(Date.now() - started).toBeLessThan(30_000);
    const store = openStore(db);
    try {
      expect(store.listSessions()).toEqual([]);
    } finally {
      store.close();
    }
  });
});
