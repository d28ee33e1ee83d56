import { describe, expect, it } from 'vitest';
import { markdownReport, markdownSummary, redactRecord, utf8Length, type ReportInput } from './index.js';
import { XSS_NAME, fixtureHeader, fixtureRecords } from './testing/fixture.js';

function input(): ReportInput {
  const records = fixtureRecords();
  return { header: fixtureHeader(records), records: records.map((r) => redactRecord(r)) };
}

const text = (chunks: Iterable<string>) => [...chunks].join('');

describe('Markdown summary', () => {
  it('keeps the full report header, the findings and the evidence rows, escaped like the full report', () => {
    const summary = text(markdownSummary(input(), { fullReportHint: 'kreplay export fixture --format markdown' }));
    const full = text(markdownReport(input()));
    const header = (t: string) => t.slice(t.indexOf('| Session'), t.indexOf('## Findings'));
    expect(header(summary)).toBe(header(full));
    for (const f of input().header.findings) expect(summary).toContain(`\`${f.kind}\``);
    expect(summary).toContain('**⚑ ');
    expect(summary).not.toContain(XSS_NAME);
  });

  it('stays within the byte budget however small, and says what it left out', () => {
    const full = text(markdownReport(input()));
    for (const maxBytes of [3_000, 5_000, 8_000, 20_000]) {
      const summary = text(markdownSummary(input(), { maxBytes, fullReportHint: 'kreplay export fixture --format markdown' }));
      expect(utf8Length(summary)).toBeLessThanOrEqual(maxBytes);
      if (utf8Length(full) > maxBytes) expect(summary).toMatch(/not shown|not listed|without details/);
    }
  });

  it('counts UTF-8 bytes as Buffer does', () => {
    for (const s of ['abc', 'é', '🔴 error', '⚑', 'x\u{1F600}y', '\ud800']) expect(utf8Length(s)).toBe(Buffer.byteLength(s));
  });
});
