import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/testing/run-cli.js';
import type { SessionRecord } from '../model/index.js';
import { analyze } from '../replayer/index.js';
import { openStore } from '../store/index.js';
import { useTempDir } from '../test/temp.js';
import { importFiles } from './import-files.js';

// Several files into one session, through the CLI and the driver: merge order, per-file formats, --append.

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, s)).toISOString().replace('.000', '');

function object(kind: string, apiVersion: string, name: string, rv: number, uid: string, manager: string, s: number) {
  return {
    apiVersion,
    kind,
    metadata: {
      name,
      namespace: 'shop',
      uid,
      resourceVersion: String(rv),
      generation: 1,
      creationTimestamp: at(0),
      managedFields: [{ manager, operation: 'Update', apiVersion, time: at(s), fieldsType: 'FieldsV1', fieldsV1: {} }],
    },
    spec: { replicas: rv },
  };
}
const watchLine = (type: string, obj: object) => JSON.stringify({ type, object: obj });

/** A Foo dump and a Deployment dump whose resourceVersions interleave, as two `kubectl get -w` of one cluster. */
function writeDumps(dir: string): { foos: string; deployments: string } {
  const foos = join(dir, 'foos.json');
  const deployments = join(dir, 'deployments.json');
  writeFileSync(foos, [
    watchLine('ADDED', object('Foo', 'samplecontroller.k8s.io/v1alpha1', 'web', 100, 'foo-1', 'kubectl-client-side-apply', 1)),
    watchLine('MODIFIED', object('Foo', 'samplecontroller.k8s.io/v1alpha1', 'web', 103, 'foo-1', 'sample-controller', 3)),
    watchLine('MODIFIED', object('Foo', 'samplecontroller.k8s.io/v1alpha1', 'web', 105, 'foo-1', 'sample-controller', 5)),
  ].join('\n'));
  writeFileSync(deployments, [
    watchLine('ADDED', object('Deployment', 'apps/v1', 'web', 101, 'dep-1', 'sample-controller', 2)),
    watchLine('MODIFIED', object('Deployment', 'apps/v1', 'web', 104, 'dep-1', 'kube-controller-manager', 4)),
  ].join('\n'));
  return { foos, deployments };
}

/** An audit log of the controller's write that produced the Deployment's version 101. */
function writeAudit(dir: string): string {
  const path = join(dir, 'audit.log');
  const event = (auditID: string, rv: number, s: number) => ({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID,
    stage: 'ResponseComplete',
    requestURI: '/apis/apps/v1/namespaces/shop/deployments',
    verb: 'create',
    user: { username: 'system:serviceaccount:shop:sample-controller' },
    objectRef: { resource: 'deployments', namespace: 'shop', name: 'web', apiGroup: 'apps', apiVersion: 'v1' },
    responseStatus: { code: 201 },
    responseObject: object('Deployment', 'apps/v1', 'web', rv, 'dep-1', 'sample-controller', s),
    requestReceivedTimestamp: at(s),
    stageTimestamp: at(s),
  });
  writeFileSync(path, [JSON.stringify(event('a-1', 101, 2))].join('\n'));
  return path;
}

function recordsOf(db: string, session: string) {
  const store = openStore(db);
  try {
    const info = store.findSession(session)!;
    return { info, records: [...store.records(info.id)] };
  } finally {
    store.close();
  }
}

const rvOf = (r: SessionRecord) => (r.record === 'watch' ? r.resourceVersion : r.record === 'api' ? r.resourceVersionAfter : undefined);

describe('kreplay import of several files', () => {
  const tempDir = useTempDir();

  it('merges watch dumps of two kinds in resourceVersion order, each file detected', async () => {
    const dir = tempDir();
    const db = join(dir, 'k.db');
    const { foos, deployments } = writeDumps(dir);
    const run = await runCli(['--db', db, 'import', foos, deployments, '--session', 'incident']);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toContain('imported 5 records (5 watch) into session incident from 2 files');
    expect(run.out).toContain(`${foos}: kubectl-watch (detected), 3 records`);
    expect(run.out).toContain(`${deployments}: kubectl-watch (detected), 2 records`);
    const { info, records } = recordsOf(db, 'incident');
    expect(records.map(rvOf)).toEqual(['100', '101', '103', '104', '105']);
    expect(info.source).toBe('import:kubectl-watch');
    expect((info.config as { files: unknown[] }).files).toHaveLength(2);
  });

  it('puts an audit write just before the watch version it produced, and the analysis joins the two', async () => {
    const dir = tempDir();
    const db = join(dir, 'k.db');
    const { foos, deployments } = writeDumps(dir);
    const audit = writeAudit(dir);
    // The audit log first on the command line: the order comes from resourceVersions, not from the arguments.
    const run = await runCli(['--db', db, 'import', audit, foos, deployments, '--session', 'mixed']);
    expect(run.code).toBe(0);
    const { records } = recordsOf(db, 'mixed');
    const order = records.map((r) => `${r.record}:${r.origin}:${rvOf(r) ?? ''}`);
    expect(order).toEqual(['watch:import:100', 'api:audit:101', 'watch:audit:101', 'watch:import:101', 'watch:import:103', 'watch:import:104', 'watch:import:105']);
    // The audit user and the field manager of the version its write produced are one controller.
    const report = analyze(records, {});
    expect(report.stats.controller.names).toEqual(expect.arrayContaining(['sample-controller', 'system:serviceaccount:shop:sample-controller']));
  });

  it('takes FILE:FORMAT for one file and --format for all; names the file it cannot read', async () => {
    const dir = tempDir();
    const db = join(dir, 'k.db');
    const { foos, deployments } = writeDumps(dir);
    const wrong = await runCli(['--db', db, 'import', `${foos}:audit`, deployments, '--session', 'wrong']);
    // Named audit, the Foo dump yields problems only; the Deployment dump still imports.
    expect(wrong.code).toBe(0);
    expect(wrong.out).toContain(`${foos}: audit, 0 records`);
    expect(wrong.err).toContain(`${foos}:1: this is a watch event: import kubectl watch dumps with --format kubectl-watch`);
    const missing = await runCli(['--db', db, 'import', foos, join(dir, 'nope.json'), '--session', 'missing']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`cannot read ${join(dir, 'nope.json')}: no such file`);
    expect(recordsOf(db, 'wrong').records).toHaveLength(2);
    const store = openStore(db);
    expect(store.findSession('missing')?.name).not.toBe('missing');
    store.close();
  });

  it('--append adds files to an existing session behind a marker naming them, skipping audit events it holds', async () => {
    const dir = tempDir();
    const db = join(dir, 'k.db');
    const { foos, deployments } = writeDumps(dir);
    const audit = writeAudit(dir);
    expect((await runCli(['--db', db, 'import', foos, audit, '--session', 's'])).code).toBe(0);
    const refused = await runCli(['--db', db, 'import', deployments, foos, '--session', 's']);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('--append');
    const added = await runCli(['--db', db, 'import', deployments, audit, '--session', 's', '--append']);
    expect(added.code).toBe(0);
    expect(added.out).toContain('added 2 records (2 watch) to session s from 2 files');
    const { records } = recordsOf(db, 's');
    const marker = records.find((r) => r.record === 'marker');
    expect(marker).toMatchObject({ marker: 'imported', origin: 'import', count: 2 });
    expect(marker?.record === 'marker' && marker.message).toBe(`appended ${deployments} (kubectl-watch), ${audit} (audit)`);
    // The audit event was there already: skipped, not stored twice.
    expect(records.filter((r) => r.record === 'api')).toHaveLength(1);
    expect(added.out).toContain('skipped: 1 duplicate audit events (an auditID already imported)');
    // Appended after what the session held, the marker first.
    expect(records.slice(records.indexOf(marker!)).map(rvOf)).toEqual([undefined, '101', '104']);
  });

  it('strict: a bad line in any file imports nothing', async () => {
    const dir = tempDir();
    const db = join(dir, 'k.db');
    const { foos } = writeDumps(dir);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, `${watchLine('ADDED', object('Deployment', 'apps/v1', 'web', 101, 'dep-1', 'x', 1))}\n{"type": "MODIFIED", "object": 7}\n`);
    const store = openStore(db);
    try {
      const outcome = await importFiles(store, { files: [{ input: { path: foos } }, { input: { path: bad } }], session: 'strict', strict: true, toolVersion: 'test' });
      expect(outcome.ok).toBe(false);
      expect(!outcome.ok && outcome.message).toMatch(/bad\.json:2: /);
      expect(store.findSession('strict')?.name).not.toBe('strict');
    } finally {
      store.close();
    }
  });
});
