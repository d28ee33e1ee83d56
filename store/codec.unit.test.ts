import { describe, expect, it } from 'vitest';
import { brotliCompressSync, brotliDecompressSync, constants as zlib } from 'node:zlib';
import { BodyKind, ChunkEncoding, applyPatchImmutable, compressChunk, decodeBody, decompressChunk, diffJson, encodeBody, type Json } from './codec.js';
import { deployment } from '../test/builders.js';

const asJson = (value: unknown) => value as Json;

describe('object body codec', () => {
  it('stores a status change as a small delta and rebuilds the exact object', () => {
    const before = asJson(deployment({ name: 'web', resourceVersion: '100', readyReplicas: 1 }));
    const after = asJson(deployment({ name: 'web', resourceVersion: '101', readyReplicas: 3, at: '2026-11-25T10:00:09Z' }));
    const full = JSON.stringify(after).length;
    const encoded = encodeBody(before, after, full);
    expect(encoded.kind).toBe(BodyKind.delta);
    expect(encoded.text.length).toBeLessThan(full / 4);
    expect(decodeBody(encoded.kind, encoded.text, before)).toEqual(after);
  });

  it('falls back to a keyframe when the delta would not be much smaller than the object', () => {
    const after = asJson(deployment({ name: 'web', resourceVersion: '1' }));
    const encoded = encodeBody({ a: 1 }, after, 200);
    expect(encoded.kind).toBe(BodyKind.keyframe);
    expect(decodeBody(encoded.kind, encoded.text, undefined)).toEqual(after);
  });

  it('never mutates the previous version when applying a patch', () => {
    const before = asJson(deployment({ name: 'web', resourceVersion: '100' }));
    const frozen = JSON.stringify(before);
    const after = structuredClone(before) as Record<string, any>;
    after.spec.template.spec.containers.push({ name: 'sidecar', image: 'kreplay:1' });
    after.spec.template.spec.containers[0].image = 'nginx:1.28';
    delete after.metadata.annotations;
    after.status.conditions.pop();
    const patch = diffJson(before, after);
    expect(applyPatchImmutable(before, patch)).toEqual(after);
    expect(JSON.stringify(before)).toBe(frozen);
  });

  it('round-trips random edits of nested objects, arrays and type changes', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let current: any = { list: [1, 2, 3], nested: { a: 'x', b: [{ c: 1 }] } };
    for (let step = 0; step < 1000; step += 1) {
      const next = structuredClone(current);
      const roll = random();
      if (roll < 0.2) next.list.splice(Math.floor(random() * (next.list.length + 1)), 0, step);
      else if (roll < 0.4 && next.list.length) next.list.splice(Math.floor(random() * next.list.length), 1);
      else if (roll < 0.55) next.nested[`k${step % 7}`] = { v: step, arr: [step, 'x/~y'] };
      else if (roll < 0.65) delete next.nested[`k${(step + 3) % 7}`];
      else if (roll < 0.75) next.nested.a = roll < 0.7 ? [step] : { s: step };
      else if (roll < 0.85) next.nested[`odd/~key${step % 3}`] = step % 2 ? null : 'v';
      else next.nested.b.push({ c: step });
      const patch = diffJson(current, next);
      expect(applyPatchImmutable(current, patch)).toEqual(next);
      current = next;
    }
  });

  it('diffs keys that name Object.prototype members, and a __proto__ key, as ordinary keys', () => {
    // Valid ConfigMap data keys and annotation keys; JSON.parse makes each an own property.
    const before = JSON.parse('{"data":{"constructor":"a","toString":"b"},"keep":1}') as Json;
    const after = JSON.parse('{"data":{"toString":"c","hasOwnProperty":"d","__proto__":"q","valueOf":"e"},"keep":1,"skipped":null}') as Json;
    const patch = diffJson(before, after);
    expect(patch).toEqual([
      { op: 'remove', path: '/data/constructor' },
      { op: 'replace', path: '/data/toString', value: 'c' },
      { op: 'add', path: '/data/hasOwnProperty', value: 'd' },
      { op: 'add', path: '/data/__proto__', value: 'q' },
      { op: 'add', path: '/data/valueOf', value: 'e' },
      { op: 'add', path: '/skipped', value: null },
    ]);
    const rebuilt = applyPatchImmutable(before, patch);
    expect(rebuilt).toEqual(after);
    expect(Object.keys((rebuilt as any).data)).toContain('__proto__');
    expect(Object.getPrototypeOf((rebuilt as any).data)).toBe(Object.prototype);
  });

  it('sees a removed __proto__ or constructor key, which a plain read finds on the prototype', () => {
    const before = JSON.parse('{"data":{"__proto__":"q","constructor":"c","keep":1}}') as Json;
    const after = JSON.parse('{"data":{"keep":2}}') as Json;
    expect(diffJson(before, after)).toEqual([
      { op: 'remove', path: '/data/__proto__' },
      { op: 'remove', path: '/data/constructor' },
      { op: 'replace', path: '/data/keep', value: 2 },
    ]);
    expect(diffJson(after, before)).toEqual([
      { op: 'replace', path: '/data/keep', value: 1 },
      { op: 'add', path: '/data/__proto__', value: 'q' },
      { op: 'add', path: '/data/constructor', value: 'c' },
    ]);
  });

  it('treats a key whose value is undefined as absent, as JSON.stringify does', () => {
    expect(diffJson({ a: 1, b: undefined } as unknown as Json, { a: 1, c: undefined } as unknown as Json)).toEqual([]);
    expect(diffJson({ a: 1 }, { a: undefined } as unknown as Json)).toEqual([{ op: 'remove', path: '/a' }]);
  });

  it('produces no operations for equal documents, shared or not', () => {
    const a = asJson(deployment({ name: 'web', resourceVersion: '1' }));
    expect(diffJson(a, a)).toEqual([]);
    expect(diffJson(a, structuredClone(a))).toEqual([]);
  });

  it('applies JSON pointer escapes (~0, ~1) as RFC 6901 says', () => {
    const doc = { metadata: { annotations: { 'kreplay.dev/x': 'a', 'til~de': 'b' } } };
    const out = applyPatchImmutable(doc, [
      { op: 'replace', path: '/metadata/annotations/kreplay.dev~1x', value: 'A' },
      { op: 'remove', path: '/metadata/annotations/til~0de' },
    ]);
    expect(out).toEqual({ metadata: { annotations: { 'kreplay.dev/x': 'A' } } });
  });

  it('compresses a chunk of similar bodies far below their size and restores it exactly', () => {
    const bodies = Array.from({ length: 100 }, (_, i) => JSON.stringify(deployment({ name: `web-${i}`, resourceVersion: String(i) })));
    const text = bodies.join('');
    const { encoding, data } = compressChunk(text);
    expect(data.length).toBeLessThan(text.length / 10);
    expect(decompressChunk(encoding, data)).toBe(text);
    expect(decompressChunk(compressChunk('tiny').encoding, compressChunk('tiny').data)).toBe('tiny');
  });

  it('reads chunks written at the quality earlier versions used (4), and at any other brotli quality', () => {
    // The quality is a writer's choice only: sessions recorded before the change to quality 1 must read the same.
    const text = Array.from({ length: 50 }, (_, i) => JSON.stringify([{ op: 'replace', path: '/status/readyReplicas', value: i % 4 }])).join('');
    for (const quality of [4, 11, 0]) {
      const packed = brotliCompressSync(Buffer.from(text), { params: { [zlib.BROTLI_PARAM_QUALITY]: quality, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT } });
      expect(decompressChunk(ChunkEncoding.brotli, packed)).toBe(text);
    }
    const written = compressChunk(text);
    expect(written.encoding).toBe(ChunkEncoding.brotli);
    expect(brotliDecompressSync(written.data).toString('utf8')).toBe(text);
  });
});
