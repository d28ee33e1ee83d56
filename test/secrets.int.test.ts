import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/testing/run-cli.js';
import { importFile } from '../importers/index.js';
import { parseConfig } from '../recorder/config.js';
import { FakeApiServer, secrets } from '../recorder/fake-apiserver.js';
import { silentLogger } from '../recorder/log.js';
import { Recorder } from '../recorder/recorder.js';
import { kubeConfigFor, waitFor } from '../recorder/test-helpers.js';
import { openStore } from '../store/index.js';
import { useTempDir } from './temp.js';

// Secret data never leaves `data`/`stringData` values anywhere kreplay writes: the database, its WAL, or an export,
// whichever way the Secret came in — the recorder's watch, the audit webhook at level RequestResponse, or an import.
// The raw bytes of every file are searched for each value, plain and base64.

const tempDir = useTempDir();
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const watchedValue = 'watch-path-Pa55w0rd-71c2';
/** The values in test/fixtures/kubectl-watch-secret.json and audit-requestresponse.log. */
const fixtureValues = ['s3cr3t-Pa55w0rd-9f8e7d', 'n3w-R0tated-Pa55-4c3b2a'];
const forms = [watchedValue, ...fixtureValues].flatMap((value) => [value, Buffer.from(value).toString('base64')]);
const token = 'secrets-test-token-0123456789';

function expectNoSecret(file: string): void {
  if (!existsSync(file)) return;
  const bytes = readFileSync(file);
  for (const form of forms) expect(bytes.includes(Buffer.from(form)), `${form} in ${file}`).toBe(false);
}

describe('Secret data on every path', () => {
  it('never reaches the database, the WAL or an export from the watch, the audit webhook or an import', async () => {
    const dir = tempDir();
    const db = join(dir, 'kreplay.db');
    const fake = new FakeApiServer([secrets]);
    const url = await fake.start();
    const store = openStore(db);
    try {
      fake.create('', 'secrets', 'shop', 'creds', { type: 'Opaque', data: { password: Buffer.from(watchedValue).toString('base64') } });
      const recorder = await Recorder.start({
        config: parseConfig({ resources: ['v1/secrets'], server: { listen: '127.0.0.1:0' }, writer: { flushInterval: '50ms' }, audit: { scope: 'all' } }),
        kube: kubeConfigFor(url),
        store,
        dbPath: db,
        sessionName: 'rec',
        toolVersion: '0.0.0-test',
        token,
        log: silentLogger,
        random: () => 0,
      });
      try {
        // The audit webhook: the fixture's RequestResponse events (Secrets created and rotated) as one EventList.
        const events = readFileSync(fixture('audit-requestresponse.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as unknown);
        const body = JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: events });
        const answer = await fetch(`${recorder.url}/v1/audit`, { method: 'POST', body, headers: { Authorization: `Bearer ${token}` } });
        expect(answer.status).toBe(200);
        await waitFor(() => store.recordCount(recorder.sessionId, { kinds: ['api'] }) > 0, 5_000, 'audit records');
        await waitFor(() => [...store.records(recorder.sessionId)].some((r) => r.record === 'watch' && r.kind === 'Secret' && r.origin !== 'audit'), 5_000, 'the watched Secret');
        // Written while the recorder runs: the WAL holds the newest pages now.
        expectNoSecret(db);
        expectNoSecret(`${db}-wal`);
      } finally {
        await recorder.stop();
      }
      for (const [session, file] of [['k', 'kubectl-watch-secret.json'], ['a', 'audit-requestresponse.log']] as const) {
        const outcome = await importFile(store, { session, input: { path: fixture(file) }, toolVersion: 'test' });
        expect(outcome.ok).toBe(true);
      }
      // Each path held Secret versions (so the search below searched something), every one redacted.
      for (const session of store.listSessions()) {
        const versions = [...store.records(session.id, { withObjects: true })].filter((r) => r.record === 'watch' && r.kind === 'Secret');
        expect(versions.length, `Secret versions in ${session.name}`).toBeGreaterThan(0);
        for (const version of versions) expect(version.record === 'watch' && JSON.stringify(version.object?.data ?? {})).toMatch(/<redacted>/);
      }
      expectNoSecret(db);
      expectNoSecret(`${db}-wal`);
    } finally {
      store.close();
      await fake.close();
    }
    for (const session of ['rec', 'k', 'a']) {
      for (const format of ['json', 'markdown', 'html']) {
        const out = join(dir, `${session}.${format}`);
        const run = await runCli(['export', session, '--db', db, '--format', format, '-o', out]);
        expect(run.code, run.err).toBe(0);
        expectNoSecret(out);
      }
    }
    expectNoSecret(db);
    expectNoSecret(`${db}-wal`);
  });
});
