import { describe, expect, it } from 'vitest';
import { deployment } from '../test/builders.js';
import { changePoints, evaluateFieldPath, evaluationKey, formatEvaluation, formatFieldPath, parseFieldPath, type FieldPath } from './watchpoint.js';

function parse(text: string): FieldPath {
  const result = parseFieldPath(text);
  if (!result.ok) throw new Error(`${text}: ${result.error} at ${result.offset}`);
  return result.path;
}

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', labels: { 'app.kubernetes.io/name': 'web', tier: 'front' } },
  spec: {
    ports: [
      { name: 'http', port: 80, nodePort: 30080 },
      { name: 'https', port: 443, nodePort: 30443 },
    ],
  },
};

describe('parseFieldPath', () => {
  it('reads fields, indexes, selectors and quoted keys into segments', () => {
    expect(parse('.status.conditions[?type=Ready].status').segments).toEqual([
      { type: 'field', name: 'status' },
      { type: 'field', name: 'conditions' },
      { type: 'select', key: 'type', value: 'Ready' },
      { type: 'field', name: 'status' },
    ]);
    expect(parse('.spec.ports[0].nodePort').segments).toEqual([
      { type: 'field', name: 'spec' },
      { type: 'field', name: 'ports' },
      { type: 'index', index: 0 },
      { type: 'field', name: 'nodePort' },
    ]);
    expect(parse('.metadata.labels["app.kubernetes.io/name"]').segments.at(-1)).toEqual({ type: 'field', name: 'app.kubernetes.io/name' });
  });

  it("accepts kubectl's jsonpath forms: braces, (@.key==\"v\") filters, single quotes, no leading dot", () => {
    const canonical = '.status.conditions[?type=Ready].status';
    expect(parse('{.status.conditions[?(@.type=="Ready")].status}').text).toBe(canonical);
    expect(parse(".status.conditions[?(@.type=='Ready')].status").text).toBe(canonical);
    expect(parse('status.conditions[?type==Ready].status').text).toBe(canonical);
    expect(parse(".metadata.labels['app.kubernetes.io/name']").text).toBe('.metadata.labels["app.kubernetes.io/name"]');
    expect(parse('.spec.ports[-1]').segments.at(-1)).toEqual({ type: 'index', index: -1 });
  });

  it('round-trips the canonical text, quoting what is not an identifier', () => {
    for (const text of ['.spec.replicas', '.metadata.labels["app.kubernetes.io/name"]', '.status.conditions[?type="Ready Now"].status', '.data["config.yaml"]', '.']) {
      expect(parse(text).text).toBe(text);
      expect(formatFieldPath(parse(text).segments)).toBe(text);
    }
  });

  it('reports errors as values with the offset where it stopped', () => {
    expect(parseFieldPath('.spec..replicas')).toMatchObject({ ok: false, offset: 6 });
    expect(parseFieldPath('.spec.ports[x]')).toMatchObject({ ok: false, error: expect.stringContaining('list index') });
    expect(parseFieldPath('.status.conditions[?type=Ready')).toMatchObject({ ok: false, error: expect.stringContaining(']') });
    expect(parseFieldPath('.metadata.labels["unterminated')).toMatchObject({ ok: false, error: 'unterminated string' });
    expect(parseFieldPath('  ')).toMatchObject({ ok: false });
  });
});

describe('evaluateFieldPath', () => {
  const object = deployment({ name: 'web', resourceVersion: '10', readyReplicas: 2 });

  it('evaluates fields, selectors, indexes and quoted keys', () => {
    expect(evaluateFieldPath(parse('.status.conditions[?type=Available].status'), object)).toEqual({ found: true, value: 'True' });
    expect(evaluateFieldPath(parse('.spec.ports[0].nodePort'), service)).toEqual({ found: true, value: 30080 });
    expect(evaluateFieldPath(parse('.spec.ports[-1].name'), service)).toEqual({ found: true, value: 'https' });
    expect(evaluateFieldPath(parse('.spec.ports[?port=443].nodePort'), service)).toEqual({ found: true, value: 30443 });
    expect(evaluateFieldPath(parse('.metadata.labels["app.kubernetes.io/name"]'), service)).toEqual({ found: true, value: 'web' });
    expect(evaluateFieldPath(parse('.status.readyReplicas'), object)).toEqual({ found: true, value: 2 });
  });

  it('says "not found" for missing fields, out-of-range indexes, unmatched selectors and type mismatches', () => {
    for (const text of ['.status.conditions[?type=Ready].status', '.spec.ports[5]', '.spec.nope', '.spec.replicas.deeper', '.spec[0]', '.spec.ports.name']) {
      expect(evaluateFieldPath(parse(text), text.includes('ports') ? service : object)).toEqual({ found: false });
    }
    expect(evaluationKey({ found: false })).not.toBe(evaluationKey({ found: true, value: null }));
  });

  it('compares values by content, not key order', () => {
    expect(evaluationKey({ found: true, value: { a: 1, b: 2 } })).toBe(evaluationKey({ found: true, value: { b: 2, a: 1 } }));
    expect(formatEvaluation({ found: true, value: 'True' })).toBe('"True"');
    expect(formatEvaluation({ found: false })).toBe('<absent>');
  });
});

describe('changePoints', () => {
  it('lists the versions where the watched value changed', () => {
    const versions = [1, 1, 3, 3, 2].map((ready, i) => ({ seq: 10 + i, object: deployment({ name: 'web', resourceVersion: String(100 + i), readyReplicas: ready }) }));
    const changes = changePoints(parse('.status.readyReplicas'), versions);
    expect(changes.map((c) => [c.seq, formatEvaluation(c.before), formatEvaluation(c.after)])).toEqual([
      [10, '<absent>', '1'],
      [12, '1', '3'],
      [14, '3', '2'],
    ]);
  });
});
