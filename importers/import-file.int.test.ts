import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import type { StoredRecord } from '../model/index.js';
import { openStore, type SessionStore } from '../store/index.js';
import { useTempDir } from '../test/temp.js';
import { importFile, type ImportFileOptions, type ImportOutcome, type ImportSummary } from './import-file.js';

const fixturePath = (name: string) => fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));
const realLogPath = fileURLToPath(new URL('../test/fixtures/real/audit-metadata-real.log', import.meta.url));

function summaryOf(outcome: ImportOutcome): ImportSummary {
  if (!outcome.ok) throw new Error(`import failed: ${outcome.reason}: ${outcome.message}`);
  return outcome.summary;
}

function rvs(records: readonly StoredRecord[]): string[] {
  return records.flatMap((r) => (r.record === 'watch' ? [`${r.type} ${r.name ?? '-'} ${r.resourceVersion}`] : []));
}

describe('importFile', () => {
  const tempDir = useTempDir();
  const base = { toolVersion: 'test' } as const;
  const open = () => openStore(join(tempDir(), 'kreplay.db'));
  const run = (store: SessionStore, options: Omit<ImportFileOptions, 'toolVersion'>) => importFile(store, { ...base, ...options });

  it('imports a kubectl watch dump into a new, complete session and reads it back from disk', async () => {
    const path = join(tempDir(), 'kreplay.db');
    let store = openStore(path);
    const summary = summaryOf(await run(store, { format: 'kubectl-watch', session: 'deploys', input: { path: fixturePath('kubectl-watch-deployments.json') } }));
    expect(summary).toMatchObject({ records: 8, countsByKind: { watch: 7, marker: 1 }, problems: [], problemCount: 0, partial: false, interrupted: false });
    expect(summary.bytesRead).toBe(readFileSync(fixturePath('kubectl-watch-deployments.json')).length);
    store.close();

    store = openStore(path);
    const session = store.findSession('deploys')!;
    expect(session).toMatchObject({
      source: 'import:kubectl-watch',
      partial: false,
      problems: [],
      endedAt: '2026-11-25T10:21:41Z',
      config: { format: 'kubectl-watch', file: fixturePath('kubectl-watch-deployments.json'), controller: null, strict: false, redact: [] },
    });
    const records = [...store.records(session.id)];
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(records.every((r) => r.origin === 'import')).toBe(true);
    expect(rvs(records)).toEqual(['ADDED api 47001', 'ADDED web 48120', 'MODIFIED web 48213', 'MODIFIED web 48230', 'MODIFIED web 48251', 'MODIFIED api 48301', 'DELETED api 48302']);
    const history = store.objectHistory(session.id, '7c1a4f0e-2b8d-4c55-9e61-3f2a9d8b6c10');
    expect(history.map((r) => (r.record === 'watch' ? (r.object as { spec: { replicas: number } }).spec.replicas : null))).toEqual([3, 5, 5, 5]);
    store.close();
  });

  it('imports every fixture format, each into its own session', async () => {
    const store = open();
    const cases = [
      ['kubectl-watch', 'kubectl-watch-configmaps-oneline.json', { watch: 4 }],
      ['kubectl-watch', 'kubectl-objects-pods.json', { watch: 3 }],
      ['kubectl-watch', 'kubectl-get-list.json', { watch: 2 }],
      ['audit', 'audit-requestresponse.log', { api: 14, watch: 7 }],
      ['audit', 'audit-webhook-eventlist.json', { api: 4 }],
      ['ndjson', 'events.ndjson', { marker: 5, watch: 5, delivery: 3, reconcile: 4, api: 2 }],
    ] as const;
    for (const [format, file, counts] of cases) {
      const summary = summaryOf(await run(store, { format, session: file, input: { path: fixturePath(file) } }));
      expect(summary.countsByKind, file).toEqual(counts);
      expect(summary.partial, file).toBe(false);
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      expect(store.recordCount(store.findSession(file)!.id), file).toBe(total);
    }
    expect(store.listSessions().map((s) => [s.name, s.source])).toEqual(cases.map(([format, file]) => [file, `import:${format}`]));
    store.close();
  });

  it('imports the real kube-apiserver audit log (Metadata level) with the controller marked', async () => {
    const store = open();
    const summary = summaryOf(await run(store, { format: 'audit', session: 'real', controller: 'bob', input: { path: realLogPath } }));
    expect(summary).toMatchObject({ records: 12, countsByKind: { api: 12 }, partial: false });
    expect(summary.skipped).toEqual({ 'successful reads (get, and list and watch in one namespace)': 2, 'non-resource requests (discovery, /healthz, ...)': 23 });
    const session = store.findSession('real')!;
    const records = [...store.records(session.id, { filter: { kinds: ['api'] } })];
    expect(records.filter((r) => r.record === 'api' && r.byController).map((r) => r.seq)).toEqual([1, 2, 3, 9]);
    expect(store.recordCount(session.id, { objectKind: 'Secret' })).toBe(1);
    expect(session.endedAt).toBe('2017-09-11T20:29:04Z');
    store.close();
  });

  it('keeps every good record around bad ones, reports file:line problems and marks the session partial', async () => {
    const store = open();
    const file = fixturePath('kubectl-watch-malformed.json');
    const summary = summaryOf(await run(store, { format: 'kubectl-watch', session: 'damaged', input: { path: file }, batchSize: 2 }));
    const expected = [
      `${file}:583: truncated JSON value (a new value starts at line 695 before it was closed)`,
      `${file}:889: not a JSON object: "E1125 10:16:02.118734   48213 reflector.…"`,
      `${file}:890: Deployment web has no metadata.uid: not an object as the API server returns it`,
    ];
    expect(summary).toMatchObject({ records: 6, problems: expected, problemCount: 3, partial: true });
    const session = store.findSession('damaged')!;
    expect(session.partial).toBe(true);
    expect(session.problems).toEqual(expected);
    expect(session.endedAt).not.toBeNull();
    expect(rvs([...store.records(session.id)])).toEqual(['ADDED api 47001', 'ADDED web 48120', 'MODIFIED web 48213', 'MODIFIED web 48251', 'MODIFIED api 48301', 'DELETED api 48302']);
    store.close();
  });

  it('keeps the first 99 problems in the session and counts the rest', async () => {
    const store = open();
    const file = join(tempDir(), 'mostly-bad.ndjson');
    const good = readFileSync(fixturePath('events.ndjson'), 'utf8').split('\n')[0]!;
    writeFileSync(file, [good, ...Array.from({ length: 250 }, (_, i) => `garbage ${i}`), good].join('\n'));
    const summary = summaryOf(await run(store, { format: 'ndjson', session: 'many', input: { path: file } }));
    expect(summary).toMatchObject({ records: 2, problemCount: 250 });
    const problems = store.findSession('many')!.problems;
    expect(problems).toHaveLength(100);
    expect(problems[0]).toMatch(new RegExp(`^${file}:2: not valid JSON`));
    expect(problems[98]).toMatch(new RegExp(`^${file}:100: not valid JSON`));
    expect(problems[99]).toBe('… and 151 more problems');
    store.close();
  });

  it('reports bad NDJSON lines as file:line: path: message', async () => {
    const store = open();
    const file = fixturePath('events-malformed.ndjson');
    const summary = summaryOf(await run(store, { format: 'ndjson', session: 'nd', input: { path: file } }));
    expect(summary.problems).toContain(`${file}:17: reconcile.errorReason: an error result needs an errorReason`);
    expect(summary.problemCount).toBe(4);
    expect(summary.records).toBe(15);
    expect(store.findSession('nd')!.partial).toBe(true);
    store.close();
  });

  it('--strict: stops at the first problem and keeps nothing of the session', async () => {
    const store = open();
    summaryOf(await run(store, { format: 'ndjson', session: 'before', input: { path: fixturePath('events.ndjson') } }));
    const file = fixturePath('kubectl-watch-malformed.json');
    // Small batches: records before the bad one were already appended when it is found.
    const outcome = await run(store, { format: 'kubectl-watch', session: 'strict', strict: true, input: { path: file }, batchSize: 1 });
    expect(outcome).toEqual({
      ok: false,
      reason: 'strict',
      message: `${file}:583: truncated JSON value (a new value starts at line 695 before it was closed)`,
      hint: expect.stringContaining('Nothing was imported'),
    });
    expect(store.findSession('strict')).toBeUndefined();
    expect(store.listSessions().map((s) => [s.name, s.recordCount])).toEqual([['before', 19]]);
    // The same command runs again once the input is fixed.
    summaryOf(await run(store, { format: 'kubectl-watch', session: 'strict', strict: true, input: { path: fixturePath('kubectl-watch-deployments.json') } }));
    expect(store.recordCount(store.findSession('strict')!.id)).toBe(8);
    store.close();
  });

  it('fails without creating a session when the input cannot be read', async () => {
    const store = open();
    const missing = join(tempDir(), 'no-such-dump.json');
    expect(await run(store, { format: 'kubectl-watch', session: 's', input: { path: missing } })).toEqual({
      ok: false,
      reason: 'unreadable',
      message: `cannot read ${missing}: no such file`,
      hint: 'Check the path; use "-" to read from stdin.',
    });
    const dir = join(tempDir(), 'a-directory');
    mkdirSync(dir);
    expect(await run(store, { format: 'kubectl-watch', session: 's', input: { path: dir } })).toMatchObject({ ok: false, reason: 'unreadable', message: `cannot read ${dir}: it is a directory` });
    expect(store.listSessions()).toEqual([]);
    store.close();
  });

  it('keeps no session when nothing could be imported', async () => {
    const store = open();
    const outcome = await run(store, { format: 'audit', session: 'wrong', input: { path: fixturePath('kubectl-watch-deployments.json') } });
    expect(outcome).toMatchObject({ ok: false, reason: 'no-records', message: expect.stringContaining('this is a watch event: import kubectl watch dumps with --format kubectl-watch') });
    expect(store.listSessions()).toEqual([]);
    store.close();
  });

  it('refuses a session name that exists or is invalid, and leaves the existing session alone', async () => {
    const store = open();
    summaryOf(await run(store, { format: 'ndjson', session: 'taken', input: { path: fixturePath('events.ndjson') } }));
    const outcome = await run(store, { format: 'kubectl-watch', session: 'taken', input: { path: fixturePath('kubectl-watch-deployments.json') } });
    expect(outcome).toMatchObject({ ok: false, reason: 'session-exists', message: expect.stringContaining('a session named "taken" already exists'), hint: expect.stringContaining('kreplay delete taken') });
    expect(store.recordCount(store.findSession('taken')!.id)).toBe(19);
    expect(await run(store, { format: 'ndjson', session: 'no spaces', input: { path: fixturePath('events.ndjson') } })).toMatchObject({ ok: false, reason: 'invalid-options' });
    expect(await run(store, { format: 'ndjson', session: 'ok', redact: ['spec..token'], input: { path: fixturePath('events.ndjson') } })).toMatchObject({ ok: false, reason: 'invalid-options', message: expect.stringContaining('not a redaction path') });
    store.close();
  });

  it('never writes Secret data to the database file, from any format', async () => {
    const dir = tempDir();
    const path = join(dir, 'kreplay.db');
    const store = openStore(path);
    summaryOf(await run(store, { format: 'kubectl-watch', session: 'k', input: { path: fixturePath('kubectl-watch-secret.json') } }));
    summaryOf(await run(store, { format: 'audit', session: 'a', input: { path: fixturePath('audit-requestresponse.log') } }));
    summaryOf(await run(store, { format: 'ndjson', session: 'n', input: { path: fixturePath('events.ndjson') } }));
    const secrets = ['s3cr3t-Pa55w0rd-9f8e7d', 'n3w-R0tated-Pa55-4c3b2a'];
    const forms = secrets.flatMap((s) => [s, Buffer.from(s).toString('base64')]);
    // Every record, bodies decoded by the store (they are compressed on disk, so raw bytes alone prove little).
    let secretVersions = 0;
    for (const session of store.listSessions()) {
      for (const record of store.records(session.id)) {
        const text = JSON.stringify(record);
        for (const form of forms) expect(text).not.toContain(form);
        if (record.record === 'watch' && record.kind === 'Secret') {
          secretVersions += 1;
          expect(record.object).toMatchObject({ data: { password: expect.stringMatching(/^<redacted> \d+ chars$/) } });
        }
      }
    }
    expect(secretVersions).toBe(4);
    store.close();
    // And the raw bytes of the database and its WAL: JSON payloads, session config and problems are stored plain.
    for (const file of [path, `${path}-wal`]) {
      if (!existsSync(file)) continue;
      const bytes = readFileSync(file);
      for (const form of forms) expect(bytes.includes(Buffer.from(form)), `${form} in ${file}`).toBe(false);
    }
  });

  it('appends in batches, one transaction each, in input order', async () => {
    const store = open();
    const append = vi.spyOn(store, 'append');
    const summary = summaryOf(await run(store, { format: 'audit', session: 'b', batchSize: 4, input: { path: fixturePath('audit-requestresponse.log') } }));
    expect(summary.records).toBe(21);
    expect(append.mock.calls.map((call) => call[1].length)).toEqual([4, 4, 4, 4, 4, 1]);
    const seqs = [...store.records(store.findSession('b')!.id)].map((r) => r.seq);
    expect(seqs).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    store.close();
  });

  it('reads a stream (stdin) and names it in problems', async () => {
    const store = open();
    const text = readFileSync(fixturePath('events-malformed.ndjson'), 'utf8');
    const stream = Readable.from(text.match(/[\s\S]{1,100}/g)!);
    const summary = summaryOf(await run(store, { format: 'ndjson', session: 'stdin', input: { stream, name: '<stdin>' } }));
    expect(summary.records).toBe(15);
    expect(summary.bytesRead).toBe(Buffer.byteLength(text));
    expect(summary.problems.at(-1)).toBe('<stdin>:17: reconcile.errorReason: an error result needs an errorReason');
    expect(store.findSession('stdin')!.config).toMatchObject({ file: '-' });
    store.close();
  });

  it('detects the format of a stream and replays what detection read: the same records as with --format', async () => {
    const store = open();
    const text = readFileSync(fixturePath('kubectl-watch-deployments.json'), 'utf8');
    const given = summaryOf(await run(store, { format: 'kubectl-watch', session: 'given', input: { stream: Readable.from(text.match(/[\s\S]{1,100}/g)!), name: '<stdin>' } }));
    const detected = summaryOf(await run(store, { session: 'detected', input: { stream: Readable.from(text.match(/[\s\S]{1,100}/g)!), name: '<stdin>' } }));
    expect([detected.format, detected.formatDetected, given.formatDetected]).toEqual(['kubectl-watch', true, false]);
    expect(detected.bytesRead).toBe(Buffer.byteLength(text));
    expect(rvs([...store.records(detected.session.id)])).toEqual(rvs([...store.records(given.session.id)]));
    expect(detected.records).toBe(given.records);
    store.close();
  });

  it('--append adds only the audit events a session lacks, and counts those older than its newest record', async () => {
    const store = open();
    const lines = readFileSync(fixturePath('audit-requestresponse.log'), 'utf8').trim().split('\n');
    const half = Math.floor(lines.length / 2);
    const later = lines.slice(half).join('\n');
    const stream = (text: string) => ({ stream: Readable.from([text]), name: '<stdin>' });
    const base = summaryOf(await run(store, { session: 'a', input: stream(later) }));
    expect(base.appended).toBe(false);
    const endedBefore = store.findSession('a')!.endedAt;
    const whole = summaryOf(await run(store, { session: 'a', append: true, input: stream(lines.join('\n')) }));
    expect(whole.appended).toBe(true);
    const alone = summaryOf(await run(store, { session: 'alone', input: stream(lines.join('\n')) }));
    expect(whole.records).toBe(alone.records - base.records);
    expect(whole.duplicates).toBe(base.countsByKind.api);
    // The earlier half's records came after the later half's in seq: said, not hidden.
    expect(whole.olderThanSession).toBe(whole.records);
    expect(store.recordCount(whole.session.id)).toBe(alone.records);
    expect(store.findSession('a')!.endedAt).toBe(endedBefore);
    store.close();
  });

  it('reports progress by bytes and stops cleanly when aborted, keeping what was read (marked partial)', async () => {
    const store = open();
    const file = join(tempDir(), 'big.json');
    const event = readFileSync(fixturePath('kubectl-watch-configmaps-oneline.json'), 'utf8').split('\n')[1]!;
    const lines = Array.from({ length: 6000 }, (_, i) => event.replace('"48190"', `"${50000 + i}"`));
    writeFileSync(file, `${lines.join('\n')}\n`);
    const size = readFileSync(file).length;
    const seen: number[] = [];
    const abort = new AbortController();
    const summary = summaryOf(
      await run(store, {
        format: 'kubectl-watch',
        session: 'cut',
        input: { path: file },
        signal: abort.signal,
        onProgress: (progress) => {
          seen.push(progress.bytesRead);
          expect(progress.totalBytes).toBe(size);
          abort.abort();
        },
      }),
    );
    expect(summary.interrupted).toBe(true);
    expect(summary.records).toBeGreaterThan(0);
    expect(summary.records).toBeLessThan(6000);
    expect(seen[0]).toBeGreaterThan(0);
    const session = store.findSession('cut')!;
    expect(session.partial).toBe(true);
    expect(session.problems[0]).toMatch(new RegExp(`^${file}: import interrupted after \\d+ of ${size} bytes`));
    expect(store.recordCount(session.id)).toBe(summary.records);

    const full = summaryOf(await run(store, { format: 'kubectl-watch', session: 'whole', input: { path: file }, onProgress: (p) => seen.push(p.bytesRead) }));
    expect(full.records).toBe(6000);
    expect(seen.at(-1)).toBe(size);
    store.close();
  });
});
