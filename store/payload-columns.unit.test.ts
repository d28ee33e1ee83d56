import { describe, expect, it } from 'vitest';
import { BatchText, PayloadDecoder, PayloadEncoder } from './payload-columns.js';

const payloads = [
  '{"record":"delivery","observedAt":"2026-11-25T15:00:00.010Z","origin":"ingest","controller":"web-operator","handler":"update","tombstone":false,"object":{"group":"apps","version":"v1","resource":"deployments","kind":"Deployment","namespace":"team-3","name":"web-0493","uid":"u-1"},"resourceVersion":"568494","oldResourceVersion":"566494"}',
  '{"record":"reconcile","observedAt":null,"origin":"ingest","controller":"web-operator","object":{"group":"","version":"v1","kind":"ConfigMap","namespace":null,"name":"c","uid":"u-1"},"startedAt":"2026-11-25T15:00:00Z","finishedAt":"2026-11-25T15:00:01Z","observedGeneration":-0,"result":"error","errorReason":"Conflict","errorMessage":"the object has been modified \\ud800 ☃","requeueAfterMs":1.5e300}',
  '{"record":"marker","observedAt":"2026-11-25T15:00:00Z","origin":"watch","marker":"gone","code":410,"2":"integer key","":"empty key","nested":{"empty":{}},"count":0}',
  // No exact column form: these keep their JSON text.
  '{"record":"api","observedAt":"2026-11-25T15:00:00Z","origin":"audit","verbs":["get","list"]}',
  '{"record":"api","observedAt":"2026-11-25T15:00:00Z","origin":"audit","object":{"__proto__":{"polluted":true}}}',
  '{"record": "delivery", "observedAt": "not json',
  '[1,2]',
];

describe('payload columns', () => {
  it('rebuild every payload as JSON.parse gives it, keys in order, across batches that share shapes and words', () => {
    const encoder = new PayloadEncoder();
    const decoder = new PayloadDecoder();
    let raw = 0;
    // Three batches: the second and third reuse the first's shapes and dictionary words.
    for (let batch = 0; batch < 3; batch++) {
      const sink = new BatchText();
      const encoded = payloads.map((payload) => encoder.encode(payload, sink));
      const { shapes, words } = encoder.takeNew();
      if (batch > 0) expect({ shapes, words }).toEqual({ shapes: [], words: [] });
      decoder.learn(shapes, words);
      const text = sink.take();
      encoded.forEach(({ shape, start }, i) => {
        const payload = payloads[i]!;
        if (shape < 0) {
          raw += 1;
          return;
        }
        const rebuilt = decoder.decode(shape, encoder.values, start, text, 100 + i);
        const parsed = { ...(JSON.parse(payload) as object), seq: 100 + i };
        expect(JSON.stringify(rebuilt)).toBe(JSON.stringify(parsed));
        expect(rebuilt).toStrictEqual(parsed);
        expect(Object.is((rebuilt as { observedGeneration?: number }).observedGeneration, (parsed as { observedGeneration?: number }).observedGeneration)).toBe(true);
      });
      // The values buffer is handed over (transferred) with each batch: the next batch starts a new one.
      structuredClone(encoder.values, { transfer: [encoder.values.buffer] });
      encoder.reset();
    }
    expect(raw).toBe(4 * 3);
  });

  it('hands a repeated string over as one instance', () => {
    const encoder = new PayloadEncoder();
    const decoder = new PayloadDecoder();
    const sink = new BatchText();
    const [a, b] = [payloads[0]!, payloads[0]!.replace('web-0493', 'web-0494')].map((payload) => encoder.encode(payload, sink));
    const { shapes, words } = encoder.takeNew();
    decoder.learn(shapes, words);
    expect(words).toContain('u-1');
    expect(words).not.toContain('568494');
    const text = sink.take();
    const first = decoder.decode(a!.shape, encoder.values, a!.start, text, 1) as { object: { uid: string; name: string } };
    const second = decoder.decode(b!.shape, encoder.values, b!.start, text, 2) as { object: { uid: string; name: string } };
    expect(first.object.name).toBe('web-0493');
    expect(second.object.name).toBe('web-0494');
    expect(a!.shape).toBe(b!.shape);
  });
});
