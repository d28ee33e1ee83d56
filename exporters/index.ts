/**
 * Exporters: a session's report as JSON, Markdown or one self-contained HTML page. Pure: they take the report
 * header and an iterable of records and yield string chunks; the CLI reads the store and writes the chunks.
 */
export { jsonReport, type ReportInput } from './json.js';
export { markdownReport, md, type MarkdownOptions } from './markdown.js';
export { markdownSummary, MARKDOWN_SUMMARY_MAX_BYTES, utf8Length, type MarkdownSummaryOptions } from './markdown-summary.js';
export { htmlReport, escapeHtml, scriptSafeJson } from './html.js';
export {
  Report,
  ReportHeader,
  ReportRecord,
  ReportSummary,
  ReportWindow,
  REPORT_API_VERSION,
  REPORT_KIND,
  type ObjectSelector,
} from './report-schema.js';
export {
  describeSelector,
  findingKindsOf,
  findingsInWindow,
  parseBound,
  parseObjectSelector,
  recordObject,
  redactRecord,
  selectorMatches,
  sortFindings,
  SummaryBuilder,
  WindowFilter,
  type Bound,
  type WindowOptions,
} from './window.js';
