import { JsonValueSplitter } from './json-splitter.js';
import { isPlainObject } from './parser.js';

/** The formats `detectFormat` tells apart (importers/import-file.ts `importFormats`). */
export type DetectedFormat = 'kubectl-watch' | 'audit' | 'ndjson';

/**
 * What one JSON value says about the file it came from: the same tests each parser uses to say "this is a … record:
 * import it with --format …" (audit.ts, kubectl-watch.ts, ndjson.ts), so detection and those messages agree.
 * Undefined when the value is none of them.
 */
export function formatOfValue(value: unknown): DetectedFormat | undefined {
  if (!isPlainObject(value)) return undefined;
  if (typeof value.record === 'string' && 'origin' in value) return 'ndjson';
  if (typeof value.apiVersion === 'string' && value.apiVersion.startsWith('audit.k8s.io/')) return 'audit';
  if (typeof value.type === 'string' && 'object' in value) return 'kubectl-watch';
  if (typeof value.kind === 'string' && isPlainObject(value.metadata)) return 'kubectl-watch';
  return undefined;
}

/**
 * Detects a file's format from its first JSON values, fed chunk by chunk. The splitter emits a List's items as they
 * complete, so a `kubectl get -o json` List or an audit webhook EventList is detected by its first item, and memory
 * stays bounded by one value. A few values that are none of the formats (a bad first line) do not decide: the first
 * value that is one does.
 */
export class FormatDetector {
  private readonly splitter = new JsonValueSplitter();
  private values = 0;
  private detected: DetectedFormat | undefined;
  private static readonly maxValues = 20;

  /** Feeds a chunk; returns the format once known. */
  push(chunk: string): DetectedFormat | undefined {
    if (this.detected === undefined && this.values < FormatDetector.maxValues) this.take(this.splitter.push(chunk));
    return this.detected;
  }

  /** The end of the input (or of what the caller is willing to look at). */
  end(): DetectedFormat | undefined {
    if (this.detected === undefined && this.values < FormatDetector.maxValues) this.take(this.splitter.end());
    return this.detected;
  }

  /** True when looking further is pointless: detected, or enough values were none of the formats. */
  get settled(): boolean {
    return this.detected !== undefined || this.values >= FormatDetector.maxValues;
  }

  private take(events: ReturnType<JsonValueSplitter['push']>): void {
    for (const event of events) {
      if (event.kind !== 'value') continue;
      this.values += 1;
      let value: unknown;
      try {
        value = JSON.parse(event.text);
      } catch {
        continue;
      }
      this.detected = formatOfValue(value);
      if (this.detected !== undefined || this.values >= FormatDetector.maxValues) return;
    }
  }
}
