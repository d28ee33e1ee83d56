import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Report } from '../../exporters/index.js';
import { SECRET_VALUE, fixtureRecords } from '../../exporters/testing/fixture.js';
import { openStore } from '../../store/index.js';
import { useTempDir } from '../../test/temp.js';
import { writeDemoSession } from './demo.js';
import { formatFromPath, redactPath } from './export.js';
import { runCli } from '../testing/run-cli.js';

const run = runCli;

describe('kreplay export', () => {
  const tempDir = useTempDir();

  /** The exporters' fixture, written through the store as an import would (seqs are reassigned 1..n). */
  function seed(): { dir: string; env: NodeJS.ProcessEnv } {
    const dir = tempDir();
    const db = join(dir, 'kreplay.db');
    const store = openStore(db);
    const session = store.createSession({ name: 'fixture', source: 'import:ndjson', cluster: 'kind-test', context: 'kind-test', toolVersion: '0.1.0', config: {}, startedAt: '2026-11-25T10:00:00.000Z' });
    store.append(session.id, fixtureRecords().map(({ seq: _seq, ...r }) => r));
    store.close();
    return { dir, env: { KREPLAY_DB: db, SOURCE_DATE_EPOCH: '1764064800' } };
  }

  it('writes a JSON report that parses with the documented schema, with Secret data redacted', async () => {
    const { dir, env } = seed();
    const file = join(dir, 'report.json');
    const result = await run(['export', 'fixture', '-o', file], env);
    expect(result.code).toBe(0);
    expect(result.err).toContain(`wrote json report of session fixture to ${file}`);
    const text = readFileSync(file, 'utf8');
    const report = Report.parse(JSON.parse(text));
    expect(report.records).toHaveLength(fixtureRecords().length);
    expect(report.generatedAt).toBe('2025-11-25T10:00:00.000Z');
    expect(report.window.cut).toBe(false);
    expect(text).not.toContain(SECRET_VALUE);
    // No temporary file left behind.
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('is the default format on stdout, and the same bytes every time with SOURCE_DATE_EPOCH', async () => {
    const { env } = seed();
    const a = await run(['export', 'fixture'], env);
    const b = await run(['export', 'fixture', '--format', 'json'], env);
    expect(a.out).toBe(b.out);
    expect(() => Report.parse(JSON.parse(a.out))).not.toThrow();
  });

  it('cuts to a seq window, a time window and an object', async () => {
    const { env } = seed();
    const seqs = async (...args: string[]) => Report.parse(JSON.parse((await run(['export', 'fixture', ...args], env)).out)).records.map((r) => r.seq);
    expect(await seqs('--from', '3', '--to', '5')).toEqual([3, 4, 5]);
    expect(await seqs('--from', '2026-11-25T10:01:30Z', '--to', '2026-11-25T10:02:10Z')).toEqual([8, 9, 10, 11, 12, 13, 14]);
    expect(await seqs('--object', 'secrets/default/db-credentials')).toEqual([1, 6, 16, 17]);
    const report = Report.parse(JSON.parse((await run(['export', 'fixture', '--object', 'Deployment/default/web', '--from', '9'], env)).out));
    expect(report.window).toMatchObject({ from: '9', to: null, cut: true, objects: [{ kind: 'Deployment', namespace: 'default', name: 'web' }] });
    expect(report.summary.firstSeq).toBe(9);
  });

  it('says what is wrong with a bad window or an unknown object', async () => {
    const { env } = seed();
    const bad = await run(['export', 'fixture', '--from', 'yesterday'], env);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--from: "yesterday" is neither a seq number nor an RFC 3339 time');
    const reversed = await run(['export', 'fixture', '--from', '9', '--to', '3'], env);
    expect(reversed.err).toContain('--from 9 is after --to 3');
    const missing = await run(['export', 'fixture', '--object', 'Deployment/default/webb'], env);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('no such object in session fixture');
    expect(missing.err).toContain('Similar objects: Deployment/default/web');
    const format = await run(['export', 'fixture', '--format', 'pdf'], env);
    expect(format.code).toBe(2);
  });

  it('writes Markdown and HTML, choosing the format from the file extension', async () => {
    const { dir, env } = seed();
    expect((await run(['export', 'fixture', '-o', join(dir, 'r.md')], env)).code).toBe(0);
    expect(readFileSync(join(dir, 'r.md'), 'utf8')).toMatch(/^# kreplay report: fixture\n/);
    expect((await run(['export', 'fixture', '-o', join(dir, 'r.html')], env)).code).toBe(0);
    const html = readFileSync(join(dir, 'r.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toContain(SECRET_VALUE);
    const md = await run(['export', 'fixture', '--format', 'markdown', '--redact', '/spec/template'], env);
    expect(md.out).toContain('## Timeline');
  });

  it('leaves no file when the output cannot be written', async () => {
    const { dir, env } = seed();
    const result = await run(['export', 'fixture', '-o', join(dir, 'missing', 'r.json')], env);
    expect(result.code).toBe(2);
    expect(result.err).toContain('cannot write');
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });

  it('maps flags to what the exporters take', () => {
    expect(redactPath('/spec/auth~1x/token')).toBe('spec.auth/x.token');
    expect(redactPath('spec.auth.token')).toBe('spec.auth.token');
    expect(formatFromPath('a.HTML')).toBe('html');
    expect(formatFromPath('a.md')).toBe('markdown');
    expect(formatFromPath('a.txt')).toBeUndefined();
  });

  it('refuses an -o extension that names no format unless --format is given', async () => {
    const { dir, env } = seed();
    const txt = join(dir, 'demo.txt');
    const refused = await run(['export', 'fixture', '-o', txt], env);
    expect(refused).toMatchObject({ code: 2, out: '' });
    expect(refused.err).toBe(`kreplay: cannot tell the report format from the extension ".txt" of ${txt}\n  Name the file .json, .md or .html, or give --format json|markdown|html.\n`);
    expect(existsSync(txt)).toBe(false);
    const noExt = await run(['export', 'fixture', '-o', join(dir, 'report')], env);
    expect(noExt.code).toBe(2);
    const given = await run(['export', 'fixture', '-o', txt, '--format', 'markdown'], env);
    expect(given.code).toBe(0);
    expect(readFileSync(txt, 'utf8')).toMatch(/^# kreplay report: fixture/);
  });

  it('--summary: a Markdown report of the demo session that fits a GitHub comment', async () => {
    const dir = tempDir();
    const db = join(dir, 'kreplay.db');
    const store = openStore(db);
    writeDemoSession(store);
    store.close();
    const env = { KREPLAY_DB: db, SOURCE_DATE_EPOCH: '1764064800' };
    const full = await run(['export', 'demo', '--format', 'markdown'], env);
    const summary = await run(['export', 'demo', '--format', 'markdown', '--summary'], env);
    expect(summary.code).toBe(0);
    expect(full.out.length).toBeGreaterThan(100_000);
    expect(summary.out.length).toBeLessThan(65_536);
    expect(Buffer.byteLength(summary.out)).toBeLessThanOrEqual(60_000);
    // The same header as the full report, every finding in the table, the top ones with evidence, a cut timeline.
    const headerOf = (text: string) => text.slice(text.indexOf('| Session'), text.indexOf('## Findings'));
    expect(headerOf(summary.out)).toBe(headerOf(full.out));
    expect(summary.out).toMatch(/^# kreplay report: demo \(summary\)\n/);
    const findingRows = (text: string) => text.split('\n').filter((line) => /^\| \d+ \| (🔴|🟠|🔵) /u.test(line)).length;
    expect(findingRows(summary.out)).toBe(findingRows(full.out));
    expect(summary.out).toContain('### 1. ');
    expect(summary.out).toContain('| Seq | resourceVersion | Evidence |');
    expect(summary.out).toContain('## Timeline (cut)');
    expect(summary.out).toMatch(/\d+ more records not shown\. Full report: `kreplay export demo --format markdown`/);

    // A tight budget still holds: the exporter's guarantee, not the demo's size.
    const md = await run(['export', 'demo', '-o', join(dir, 'demo.md'), '--summary'], env);
    expect(md.code).toBe(0);
    expect(md.err).toContain('wrote markdown summary report of session demo');
    const html = await run(['export', 'demo', '--format', 'html', '--summary'], env);
    expect(html.code).toBe(2);
    expect(html.err).toContain('--summary is for Markdown reports, not html');
  });
});
