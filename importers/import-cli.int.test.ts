import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../cli/main.js';
import { openStore } from '../store/index.js';
import { useTempDir } from '../test/temp.js';

// `kreplay import` end to end through the CLI root: argument parsing, the one error handler and exit codes.

const fixturePath = (name: string) => fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));
const realLogPath = fileURLToPath(new URL('../test/fixtures/real/audit-metadata-real.log', import.meta.url));

async function kreplay(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  try {
    const code = await main(args, {});
    return { code, out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    // `check` sets process.exitCode when it finds something; the next in-process run starts clean.
    process.exitCode = undefined;
  }
}

describe('kreplay import', () => {
  const tempDir = useTempDir();
  afterEach(() => vi.restoreAllMocks());

  it('imports a kubectl watch dump and says what it imported', async () => {
    const db = join(tempDir(), 'k.db');
    const result = await kreplay(['--db', db, 'import', fixturePath('kubectl-watch-deployments.json'), '--format', 'kubectl-watch', '--session', 'deploys']);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toMatch(/^imported 8 records \(7 watch, 1 marker\) into session deploys from .*kubectl-watch-deployments\.json \(53 KiB\)\n$/);
    const show = await kreplay(['--db', db, 'show', 'deploys', '--json']);
    const parsed = JSON.parse(show.out) as { session: { source: string; partial: boolean; recordCount: number } };
    expect(parsed.session).toMatchObject({ source: 'import:kubectl-watch', partial: false, recordCount: 8 });
  });

  it('into a database nobody may write (as root too): a clear error, exit 2, and the file byte for byte as it was', async () => {
    const db = join(tempDir(), 'k.db');
    expect((await kreplay(['--db', db, 'import', fixturePath('kubectl-watch-deployments.json'), '--format', 'kubectl-watch', '--session', 'deploys'])).code).toBe(0);
    chmodSync(db, 0o444);
    const before = readFileSync(db);
    const result = await kreplay(['--db', db, 'import', fixturePath('kubectl-watch-deployments.json'), '--format', 'kubectl-watch', '--session', 'again']);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/the database is read-only here .*nothing was written/);
    expect(readFileSync(db).equals(before)).toBe(true);
    const sessions = await kreplay(['--db', db, 'sessions', '--json']);
    expect(sessions.code).toBe(0);
    expect((JSON.parse(sessions.out) as { sessions: { name: string }[] }).sessions.map((s) => s.name)).toEqual(['deploys']);
  });

  it('imports the real audit log with --controller and lists what it skipped', async () => {
    const db = join(tempDir(), 'k.db');
    const result = await kreplay(['--db', db, 'import', realLogPath, '--format', 'audit', '--session', 'rbac', '--controller', 'system:serviceaccount:ns1:sa1']);
    expect(result.code).toBe(0);
    expect(result.out).toContain('imported 12 records (12 api) into session rbac');
    expect(result.out).toContain('skipped: 2 successful reads (get, and list and watch in one namespace); 23 non-resource requests (discovery, /healthz, ...)');
  });

  it('skips bad records, lists them as file:line on stderr, exits 0 and marks the session partial', async () => {
    const db = join(tempDir(), 'k.db');
    const file = fixturePath('events-malformed.ndjson');
    const result = await kreplay(['--db', db, 'import', file, '--format', 'ndjson', '--session', 'nd']);
    expect(result.code).toBe(0);
    expect(result.out).toContain('imported 15 records');
    expect(result.err.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${file}:5: not valid JSON: `)),
      expect.stringMatching(new RegExp(`^${file}:9: not valid JSON: `)),
      `${file}:12: record: unknown record kind "reconcilation"; expected one of watch, marker, reconcile, reconcile-start, delivery, api`,
      `${file}:17: reconcile.errorReason: an error result needs an errorReason`,
      'kreplay: 4 problems in the input (skipped); everything else was imported and session nd is marked partial',
      '',
    ]);
    const sessions = JSON.parse((await kreplay(['--db', db, 'sessions', '--json'])).out) as { sessions: { name: string; partial: boolean; problems: string[] }[] };
    expect(sessions.sessions[0]).toMatchObject({ name: 'nd', partial: true, problems: expect.arrayContaining([`${file}:17: reconcile.errorReason: an error result needs an errorReason`]) });
  });

  it('--strict exits 2 at the first bad record and keeps nothing', async () => {
    const db = join(tempDir(), 'k.db');
    const file = fixturePath('audit-malformed.log');
    const result = await kreplay(['--db', db, 'import', file, '--format', 'audit', '--session', 'strict', '--strict']);
    expect(result.code).toBe(2);
    expect(result.out).toBe('');
    expect(result.err).toBe(
      `kreplay: ${file}:3: truncated JSON value (a string is not closed before the end of its line)\n` +
        '  Nothing was imported (--strict is all or nothing). Fix the input, or import without --strict to keep every good record and mark the session partial.\n',
    );
    expect(JSON.parse((await kreplay(['--db', db, 'sessions', '--json'])).out)).toEqual({ sessions: [] });
  });

  it('exits 2 naming the path when the file is missing', async () => {
    const dir = tempDir();
    const missing = join(dir, 'watch-dump.json');
    const result = await kreplay(['--db', join(dir, 'k.db'), 'import', missing, '--format', 'kubectl-watch', '--session', 's']);
    expect(result).toEqual({ code: 2, out: '', err: `kreplay: cannot read ${missing}: no such file\n  Check the path; use "-" to read from stdin.\n` });
  });

  it('exits 2 when the session exists, and on bad options', async () => {
    const db = join(tempDir(), 'k.db');
    const args = ['--db', db, 'import', fixturePath('events.ndjson'), '--format', 'ndjson', '--session', 'twice'];
    expect((await kreplay(args)).code).toBe(0);
    const again = await kreplay(args);
    expect(again.code).toBe(2);
    expect(again.err).toContain(`kreplay: a session named "twice" already exists in ${db}`);
    expect(again.err).toContain('kreplay delete twice');

    // --controller works for every format: it is kept with the session and names whom the alarms are about.
    const controller = await kreplay(['--db', db, 'import', fixturePath('events.ndjson'), '--format', 'ndjson', '--session', 'mine', '--controller', 'web-operator']);
    expect(controller.code).toBe(0);
    const checked = await kreplay(['--db', db, 'check', 'mine', '--fail-on', 'error']);
    expect(checked.out).toContain('controller under debug: web-operator\n');
    const overridden = await kreplay(['--db', db, 'check', 'mine', '--fail-on', 'error', '--controller', 'other-operator']);
    // The name given comes first; the SDK reports under web-operator from inside the controller, so that name joins.
    expect(overridden.out).toContain('controller under debug: other-operator, web-operator\n');
    const format = await kreplay(['--db', db, 'import', fixturePath('events.ndjson'), '--format', 'yaml', '--session', 'x']);
    expect(format.code).toBe(2);
    expect(format.err).toContain("Allowed choices are kubectl-watch, audit, ndjson");
  });

  it('detects the format and names the session as record does when --format and --session are left out', async () => {
    const db = join(tempDir(), 'k.db');
    const cases = [
      ['kubectl-watch-deployments.json', 'kubectl-watch'],
      ['audit-webhook-eventlist.json', 'audit'],
      ['events.ndjson', 'ndjson'],
    ] as const;
    const names: string[] = [];
    for (const [file, format] of cases) {
      const result = await kreplay(['--db', db, 'import', fixturePath(file)]);
      expect(result.code).toBe(0);
      expect(result.out).toContain(`  format: ${format} (detected; --format overrides)\n`);
      const name = /into session (\S+) from/.exec(result.out)?.[1];
      expect(name).toMatch(/^import-\d{8}-\d{6}(-\d+)?$/);
      names.push(name!);
    }
    // Two imports in the same second get distinct names.
    expect(new Set(names).size).toBe(3);
    const sessions = JSON.parse((await kreplay(['--db', db, 'sessions', '--json'])).out) as { sessions: { name: string; source: string; config: { format: string } }[] };
    expect(sessions.sessions.map((s) => [s.source, s.config.format])).toEqual(cases.map(([, f]) => [`import:${f}`, f]));

    // --format still wins (and is not announced), --session still names.
    const given = await kreplay(['--db', db, 'import', fixturePath('events.ndjson'), '--format', 'ndjson', '--session', 'named']);
    expect(given.code).toBe(0);
    expect(given.out).not.toContain('detected');
    expect(given.out).toContain('into session named');
  });

  it('dedupes audit events by auditID: within a file, and when a log is added again with --append', async () => {
    const dir = tempDir();
    const db = join(dir, 'k.db');
    const log = readFileSync(fixturePath('audit-requestresponse.log'), 'utf8');
    const doubled = join(dir, 'doubled.log');
    writeFileSync(doubled, log + log);
    const first = await kreplay(['--db', db, 'import', doubled, '--session', 'audit']);
    expect(first.code).toBe(0);
    const imported = Number(/imported (\d+) records/.exec(first.out)![1]);
    const apiCount = Number(/\((\d+) api/.exec(first.out)![1]);
    expect(first.out).toMatch(new RegExp(`skipped: .*${apiCount} duplicate audit events \\(an auditID already imported\\)`));

    // Without --append the session is refused, and the hint says how to add to it.
    const refused = await kreplay(['--db', db, 'import', fixturePath('audit-requestresponse.log'), '--session', 'audit']);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('--append');

    const again = await kreplay(['--db', db, 'import', fixturePath('audit-requestresponse.log'), '--session', 'audit', '--append']);
    expect(again.code).toBe(0);
    expect(again.out).toContain('added 0 records to session audit');
    expect(again.out).toContain(`${apiCount} duplicate audit events (an auditID already imported)`);
    const sessions = JSON.parse((await kreplay(['--db', db, 'sessions', '--json'])).out) as { sessions: { name: string; recordCount: number }[] };
    expect(sessions.sessions).toEqual([expect.objectContaining({ name: 'audit', recordCount: imported })]);

    // --append adds any format to any session (issue 19), behind an "imported" marker; not with --strict.
    const nd = await kreplay(['--db', db, 'import', fixturePath('events.ndjson'), '--session', 'audit', '--append']);
    expect(nd).toMatchObject({ code: 0 });
    expect(nd.out).toMatch(/^added \d+ records .* to session audit from 1 file/);
    const strict = await kreplay(['--db', db, 'import', fixturePath('audit-requestresponse.log'), '--session', 'audit', '--append', '--strict']);
    expect(strict.err).toContain('--append cannot be combined with --strict');
  });

  it('exits 2 with what to do when the format cannot be detected', async () => {
    const dir = tempDir();
    const file = join(dir, 'odd.json');
    writeFileSync(file, '{"hello":"world"}\n'.repeat(50));
    const result = await kreplay(['--db', join(dir, 'k.db'), 'import', file]);
    expect(result).toEqual({
      code: 2,
      out: '',
      err: `kreplay: cannot tell what ${file} holds: it starts with no kubectl watch event or object, audit event or kreplay record\n  Name the format with --format kubectl-watch, audit or ndjson; the problems it then reports say what is wrong.\n`,
    });
  });

  it('exits 2 and keeps no session when nothing could be imported: a wrong --format, an empty file', async () => {
    const dir = tempDir();
    const db = join(dir, 'k.db');
    const wrong = await kreplay(['--db', db, 'import', realLogPath, '--format', 'kubectl-watch', '--session', 'oops']);
    expect(wrong).toEqual({
      code: 2,
      out: '',
      err: `kreplay: nothing in ${realLogPath} could be imported; first problem: ${realLogPath}:1: this is a kube-apiserver audit event: import it with --format audit\n  Check --format (kubectl-watch was given).\n`,
    });
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '');
    const none = await kreplay(['--db', db, 'import', empty, '--format', 'kubectl-watch', '--session', 'oops']);
    expect(none).toMatchObject({ code: 2, err: `kreplay: ${empty} holds no records\n  Nothing was imported.\n` });
    expect(JSON.parse((await kreplay(['--db', db, 'sessions', '--json'])).out)).toEqual({ sessions: [] });
  });

  it('passes --redact through to every object', async () => {
    const db = join(tempDir(), 'k.db');
    const result = await kreplay(['--db', db, 'import', fixturePath('kubectl-watch-configmaps-oneline.json'), '--format', 'kubectl-watch', '--session', 'r', '--redact', 'data.feature-flags', '--redact', '/metadata/labels']);
    expect(result.code).toBe(0);
    const show = JSON.parse((await kreplay(['--db', db, 'sessions', '--json'])).out) as { sessions: { config: unknown }[] };
    expect(show.sessions[0]!.config).toMatchObject({ redact: ['data.feature-flags', 'metadata.labels'] });
    const store = openStore(db);
    const [first] = store.records(store.findSession('r')!.id);
    expect(first).toMatchObject({ object: { data: { 'feature-flags': '<redacted>', 'app.yaml': 'listen: :8080\nlogLevel: info\n' }, metadata: { labels: '<redacted>' } } });
    store.close();
  });
});
