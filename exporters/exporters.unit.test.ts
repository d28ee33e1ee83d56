import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { htmlReport, jsonReport, markdownReport, md, Report, scriptSafeJson, redactRecord, type ReportInput } from './index.js';
import { reportJsonSchema } from './report-schema.js';
import { SECRET_VALUE, XSS_NAME, fixtureHeader, fixtureRecords } from './testing/fixture.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Compares with exporters/testdata/<name> (or a path relative to the repository root when `name` has a slash);
 * `UPDATE_GOLDEN=1` rewrites the file instead (STYLE.md rule 10).
 */
function expectGolden(name: string, actual: string): void {
  const path = name.includes('/') ? join(here, '..', name) : join(here, 'testdata', name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`golden file ${path} is missing: run the test with UPDATE_GOLDEN=1 and review the file`);
  // A plain equality, not toMatch: a diff of two long strings is what a reviewer wants to see.
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

function input(): ReportInput {
  const records = fixtureRecords();
  return { header: fixtureHeader(records), records: records.map((r) => redactRecord(r)) };
}

function render(chunks: Iterable<string>): { text: string; chunks: number } {
  let text = '';
  let n = 0;
  for (const chunk of chunks) {
    text += chunk;
    n += 1;
  }
  return { text, chunks: n };
}

const secretBase64 = Buffer.from(SECRET_VALUE).toString('base64');

describe('json report', () => {
  it('matches the documented schema and the golden file', () => {
    const { text, chunks } = render(jsonReport(input()));
    const report = Report.parse(JSON.parse(text));
    expect(report.records).toHaveLength(fixtureRecords().length);
    expect(report.summary.records).toBe(fixtureRecords().length);
    expect(report.findingKinds['status-spec-race']?.title).toBe('Status written from a stale spec');
    // Streamed: the header, then one chunk per record, then the end.
    expect(chunks).toBe(fixtureRecords().length + 2);
    expectGolden('fixture.report.json', text);
  });

  it('is valid JSON for an empty window too', () => {
    const { text } = render(jsonReport({ header: fixtureHeader([]), records: [] }));
    expect(Report.parse(JSON.parse(text)).records).toEqual([]);
  });

  it('never contains Secret data, even when a source forgot to redact it', () => {
    const { text } = render(jsonReport(input()));
    expect(text).not.toContain(SECRET_VALUE);
    expect(text).not.toContain(secretBase64);
    expect(text).toContain('<redacted> 19 chars');
  });

  it('applies extra redaction paths', () => {
    const web = fixtureRecords().find((r) => r.record === 'watch' && r.name === 'web')!;
    const redacted = redactRecord(web, undefined, ['spec.template']) as unknown as { object: { spec: { template: unknown } } };
    expect(redacted.object.spec.template).toBe('<redacted>');
  });
});

describe('markdown report', () => {
  it('matches the golden file', () => {
    expectGolden('fixture.report.md', render(markdownReport(input())).text);
  });

  it('escapes everything that came from the cluster', () => {
    const { text } = render(markdownReport(input()));
    expect(text).not.toContain('<script>');
    expect(text).not.toContain('<img');
    expect(text).toContain('&lt;script&gt;alert(1)&lt;script&gt;');
    expect(text).not.toContain(SECRET_VALUE);
    expect(md('a|b *c* [d](e) `f` <g>')).toBe('a\\|b \\*c\\* \\[d\\](e) \\`f\\` &lt;g&gt;');
    expect(md('web\u001b]0;pwned\u0007 \u202egnp.exe')).toBe('web\\x1b\\]0;pwned\\x07 \\u202egnp.exe');
  });

  it('elides the middle of long object timelines but keeps evidence rows', () => {
    const { text } = render(markdownReport(input(), { maxRowsPerObject: 2 }));
    expect(text).toMatch(/records omitted \(evidence rows kept\)/);
    expect(text).toContain('| 9 |');
  });
});

describe('html report', () => {
  it('embeds the data as script-safe JSON and keeps hostile names out of the markup', () => {
    const html = render(htmlReport(input())).text;
    // Exactly our two script elements: the data island and the app.
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain(SECRET_VALUE);
    expect(html).toContain("default-src 'none'");
    const data = /<script type="application\/json" id="kreplay-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
    const parsed = JSON.parse(data) as { records: { r: { name?: string } }[]; lanes: { name: string }[] };
    expect(parsed.lanes.map((l) => l.name)).toContain(XSS_NAME);
  });

  it('scriptSafeJson round-trips and cannot close the element', () => {
    const value = { a: '</script><!-- & \u2028', b: [1, '<'] };
    const text = scriptSafeJson(value);
    expect(text).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('report schema', () => {
  it('is published as docs/export-schema.json (regenerate with UPDATE_GOLDEN=1)', () => {
    expectGolden('docs/export-schema.json', `${JSON.stringify(reportJsonSchema(), null, 2)}\n`);
  });

  it('rejects a report of another apiVersion and records without seq', () => {
    const base = { apiVersion: 'kreplay.dev/v2', kind: 'Report' };
    expect(Report.safeParse(base).success).toBe(false);
    const schema = reportJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(schema.required).toEqual(expect.arrayContaining(['apiVersion', 'kind', 'session', 'summary', 'findings', 'records']));
  });
});
