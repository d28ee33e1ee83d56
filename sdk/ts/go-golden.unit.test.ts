import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SessionRecord } from '../../model/index.js';

// sdk/go/testdata/golden.ndjson is what the Go SDK writes, kept equal to its code by sdk/go/golden_test.go.
// Parsing it here with the zod schemas the recorder's ingest server uses catches a drift on either side.
const golden = new URL('../go/testdata/golden.ndjson', import.meta.url);

describe('the Go SDK wire form', () => {
  const lines = readFileSync(golden, 'utf8').split('\n').filter((line) => line !== '');

  it('holds one line of every shape', () => {
    expect(new Set(lines.map((line) => (JSON.parse(line) as { record: string }).record))).toEqual(new Set(['reconcile', 'reconcile-start', 'delivery', 'api', 'marker']));
  });

  it.each(lines.map((line, i) => [i + 1, line] as const))('line %i parses with model/records.ts', (_n, line) => {
    const parsed = SessionRecord.safeParse(JSON.parse(line));
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    // Nothing the schema does not know: zod would silently strip a misspelt key.
    expect(JSON.parse(JSON.stringify(parsed.data))).toEqual(JSON.parse(line));
  });
});
