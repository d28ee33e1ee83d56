import type { ReportHeader, ReportRecord } from './report-schema.js';

/** What every exporter renders: the report's header and its records, streamed in seq order. */
export interface ReportInput {
  readonly header: ReportHeader;
  /** Already cut to the window and redacted (see window.ts). Iterated once. */
  readonly records: Iterable<ReportRecord>;
}

/**
 * The JSON report (schema: report-schema.ts, docs/export-schema.md), as chunks: the header pretty-printed, then one
 * record per line, so a 1M-record session never becomes one string and the file still greps and diffs well.
 */
export function* jsonReport(input: ReportInput): Generator<string> {
  const header = JSON.stringify(input.header, null, 2);
  // The header ends with "\n}": reopen it to append the records array as its last member.
  yield `${header.slice(0, -2)},\n  "records": [`;
  let first = true;
  for (const record of input.records) {
    yield `${first ? '\n    ' : ',\n    '}${JSON.stringify(record)}`;
    first = false;
  }
  yield first ? ']\n}\n' : '\n  ]\n}\n';
}
