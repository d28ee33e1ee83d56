/** The importers' public surface: the CLI uses `importFile`; tests and tools may drive a parser directly. */
export { createAuditParser, collectionName, AuditEvent, type AuditOptions } from './audit.js';
export {
  createParser,
  defaultBatchSize,
  ImportConfig,
  ImportFormat,
  importFile,
  importFormats,
  redactionPath,
  type ImportFailureReason,
  type ImportFileOptions,
  type ImportInput,
  type ImportOutcome,
  type ImportProgress,
  type ImportSummary,
} from './import-file.js';
export { importFiles, type ImportedFile, type ImportFileSpec, type ImportFilesConfig, type ImportFilesOptions, type ImportFilesOutcome, type ImportFilesSummary } from './import-files.js';
export { FileOrder, firstHead, goesBefore, ownResourceVersion, type OrderKey } from './merge-order.js';
export { JsonValueSplitter, type SplitEvent } from './json-splitter.js';
export { builtinKind, guessKind, guessResource } from './kinds.js';
export { createKubectlWatchParser, type KubectlWatchOptions } from './kubectl-watch.js';
export { createNdjsonParser, type NdjsonOptions } from './ndjson.js';
export { describeIssues, parseAll, type ImportParser, type ParseEvent } from './parser.js';
