import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SessionRecord } from '../model/index.js';
import { createNdjsonParser } from './ndjson.js';
import { parseAll, type ParseEvent } from './parser.js';

const fixture = (name: string) => readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), 'utf8');
const records = (events: readonly ParseEvent[]): SessionRecord[] => events.flatMap((e) => (e.kind === 'record' ? [e.record] : []));
const problems = (events: readonly ParseEvent[]) => events.flatMap((e) => (e.kind === 'problem' ? [`${e.line}: ${e.problem}`] : []));

describe('kreplay NDJSON parser', () => {
  it('reads every record kind exactly as the schema defines it, ignoring seq and keeping each origin', () => {
    const text = fixture('events.ndjson');
    const events = parseAll(createNdjsonParser(), text);
    expect(problems(events)).toEqual([]);
    const all = records(events);
    expect(all).toHaveLength(text.trim().split('\n').length);
    expect(all.every((r) => r.seq === undefined)).toBe(true);
    expect(all.map((r) => r.record)).toEqual([
      'marker', 'marker', 'watch', 'marker', 'marker', 'delivery', 'reconcile', 'api', 'watch', 'delivery',
      'api', 'reconcile', 'watch', 'marker', 'delivery', 'reconcile', 'reconcile', 'watch', 'watch',
    ]);
    expect(new Set(all.map((r) => r.origin))).toEqual(new Set(['watch', 'relist', 'ingest']));
    // Lines other than the Secret come back exactly as written (minus seq): nothing is invented or dropped.
    const lines = text.trim().split('\n').map((line) => {
      const { seq: _seq, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return rest;
    });
    expect(all.slice(0, 18)).toEqual(lines.slice(0, 18));
  });

  it('redacts Secret data in watch objects', () => {
    const all = records(parseAll(createNdjsonParser(), fixture('events.ndjson')));
    const secret = all.at(-1)!;
    expect(secret).toMatchObject({ record: 'watch', kind: 'Secret', object: { data: { password: '<redacted> 32 chars' } } });
    expect(JSON.stringify(all)).not.toContain(Buffer.from('s3cr3t-Pa55w0rd-9f8e7d').toString('base64'));
  });

  it('reports each bad line with its number, the zod path and message, and keeps the others', () => {
    const events = parseAll(createNdjsonParser(), fixture('events-malformed.ndjson'));
    expect(problems(events)).toEqual([
      expect.stringMatching(/^5: not valid JSON: /),
      expect.stringMatching(/^9: not valid JSON: /),
      '12: record: unknown record kind "reconcilation"; expected one of watch, marker, reconcile, reconcile-start, delivery, api',
      '17: reconcile.errorReason: an error result needs an errorReason',
    ]);
    expect(events.filter((e) => e.kind === 'record').map((e) => e.line)).toEqual([1, 2, 3, 4, 6, 7, 8, 10, 11, 13, 14, 15, 16, 18, 19]);
  });

  it('points at the right --format when given kubectl output or an audit log', () => {
    const kubectl = fixture('kubectl-watch-configmaps-oneline.json').split('\n')[0]!;
    const audit = '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete"}';
    expect(problems(parseAll(createNdjsonParser(), `${kubectl}\n${audit}\n`))).toEqual([
      '1: this is a Kubernetes watch event or object: import kubectl output with --format kubectl-watch',
      '2: this is a kube-apiserver audit event: import it with --format audit',
    ]);
  });

  it('names nested paths and several issues', () => {
    const line = JSON.stringify({ record: 'api', observedAt: 'yesterday', origin: 'audit', actor: 'me', verb: 'get', object: { group: '', version: 'v1', kind: 'Pod', namespace: null }, code: 404 });
    expect(problems(parseAll(createNdjsonParser(), line))).toEqual([
      '1: api.observedAt: Invalid ISO datetime; api.object.name: Invalid input: expected string, received undefined',
    ]);
    expect(problems(parseAll(createNdjsonParser(), '{"observedAt":null}\n[1]\n'))).toEqual([
      '1: record: no "record" field; expected one of watch, marker, reconcile, reconcile-start, delivery, api',
      '2: not a JSON object: each line holds one record',
    ]);
  });

  it('handles lines split across chunks, CRLF, blank lines and a last line without a newline', () => {
    const text = fixture('events.ndjson').replace(/\n/g, '\r\n\r\n').trimEnd();
    const whole = parseAll(createNdjsonParser(), fixture('events.ndjson'));
    const chunked = parseAll(createNdjsonParser(), text.match(/[\s\S]{1,13}/g)!);
    expect(records(chunked)).toEqual(records(whole));
    expect(chunked.map((e) => e.line)).toEqual(whole.map((e) => e.line * 2 - 1));
  });
});
