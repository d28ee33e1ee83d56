import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FormatDetector, formatOfValue } from './detect.js';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url)), 'utf8');

function detect(text: string, chunkSize = 7): ReturnType<FormatDetector['end']> {
  const detector = new FormatDetector();
  for (let i = 0; i < text.length && !detector.settled; i += chunkSize) detector.push(text.slice(i, i + chunkSize));
  return detector.end();
}

describe('import format detection', () => {
  it('tells each fixture format apart, fed in small chunks', () => {
    expect(detect(fixture('kubectl-watch-deployments.json'))).toBe('kubectl-watch');
    expect(detect(fixture('kubectl-watch-configmaps-oneline.json'))).toBe('kubectl-watch');
    expect(detect(fixture('kubectl-get-list.json'))).toBe('kubectl-watch');
    expect(detect(fixture('kubectl-objects-pods.json'))).toBe('kubectl-watch');
    expect(detect(fixture('audit-requestresponse.log'))).toBe('audit');
    expect(detect(fixture('real/audit-metadata-real.log'))).toBe('audit');
    expect(detect(fixture('audit-webhook-eventlist.json'))).toBe('audit');
    expect(detect(fixture('events.ndjson'))).toBe('ndjson');
  });

  it('looks past a bad first line, and gives up on input that is none of the formats', () => {
    expect(detect('{not json\n{"record":"marker","origin":"watch"}\n')).toBe('ndjson');
    expect(detect('{"hello":"world"}\n'.repeat(30))).toBeUndefined();
    expect(detect('')).toBeUndefined();
  });

  it('classifies single values the way the parsers word their "import it with --format" problems', () => {
    expect(formatOfValue({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: 'a' })).toBe('audit');
    expect(formatOfValue({ type: 'ADDED', object: {} })).toBe('kubectl-watch');
    expect(formatOfValue({ kind: 'Pod', metadata: {} })).toBe('kubectl-watch');
    expect(formatOfValue({ record: 'watch', origin: 'import' })).toBe('ndjson');
    expect(formatOfValue([1])).toBeUndefined();
  });
});
