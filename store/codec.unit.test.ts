import { describe, expect, it } from 'vitest';
import { BodyEncoding, applyPatchImmutable, decodeVersion, encodeKeyframe, encodeVersion } from './codec.js';
import { deployment } from '../test/builders.js';

describe('object body codec', () => {
  it('stores a status change as a small delta and rebuilds the exact object', () => {
    const before = deployment({ name: 'web', resourceVersion: '100', readyReplicas: 1 });
    const after = deployment({ name: 'web', resourceVersion: '101', readyReplicas: 3, at: '2026-11-25T10:00:09Z' });
    const encoded = encodeVersion(before, after);
    expect([BodyEncoding.deltaBrotli, BodyEncoding.deltaJson]).toContain(encoded.encoding);
    expect(encoded.body.length).toBeLessThan(JSON.stringify(after).length / 4);
    expect(decodeVersion(encoded.encoding, encoded.body, before)).toEqual(after);
  });

  it('falls back to a keyframe when the delta would not be smaller', () => {
    const before = { a: 1 };
    const after = deployment({ name: 'web', resourceVersion: '1' });
    const encoded = encodeVersion(before, after);
    expect([BodyEncoding.keyframeBrotli, BodyEncoding.keyframeJson]).toContain(encoded.encoding);
    expect(decodeVersion(encoded.encoding, encoded.body, undefined)).toEqual(after);
  });

  it('never mutates the previous version when applying a patch', () => {
    const before = deployment({ name: 'web', resourceVersion: '100' });
    const frozen = JSON.stringify(before);
    const after = structuredClone(before) as Record<string, any>;
    after.spec.template.spec.containers.push({ name: 'sidecar', image: 'kreplay:1' });
    after.spec.template.spec.containers[0].image = 'nginx:1.28';
    delete after.metadata.annotations;
    after.status.conditions.pop();
    const { encoding, body } = encodeVersion(before, after);
    expect(decodeVersion(encoding, body, before)).toEqual(after);
    expect(JSON.stringify(before)).toBe(frozen);
  });

  it('round-trips random edits of nested objects and arrays', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let current: any = { list: [1, 2, 3], nested: { a: 'x', b: [{ c: 1 }] } };
    for (let step = 0; step < 500; step += 1) {
      const next = structuredClone(current);
      const roll = random();
      if (roll < 0.3) next.list.splice(Math.floor(random() * (next.list.length + 1)), 0, step);
      else if (roll < 0.5 && next.list.length) next.list.splice(Math.floor(random() * next.list.length), 1);
      else if (roll < 0.7) next.nested[`k${step % 7}`] = { v: step, arr: [step, 'x/~y'] };
      else if (roll < 0.8) delete next.nested[`k${(step + 3) % 7}`];
      else next.nested.b.push({ c: step });
      const { encoding, body } = encodeVersion(current, next);
      expect(decodeVersion(encoding, body, current)).toEqual(next);
      current = next;
    }
  });

  it('applies JSON pointer escapes (~0, ~1) as RFC 6901 says', () => {
    const doc = { metadata: { annotations: { 'kreplay.dev/x': 'a', 'til~de': 'b' } } };
    const out = applyPatchImmutable(doc, [
      { op: 'replace', path: '/metadata/annotations/kreplay.dev~1x', value: 'A' },
      { op: 'remove', path: '/metadata/annotations/til~0de' },
    ]);
    expect(out).toEqual({ metadata: { annotations: { 'kreplay.dev/x': 'A' } } });
  });

  it('decodes keyframes it encoded', () => {
    const object = deployment({ name: 'db', resourceVersion: '7' });
    const { encoding, body } = encodeKeyframe(object);
    expect(encoding).toBe(BodyEncoding.keyframeBrotli);
    expect(decodeVersion(encoding, body, undefined)).toEqual(object);
  });
});
