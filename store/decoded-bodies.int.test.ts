import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StoredRecord } from '../model/index.js';
import { deployment, watchEvent } from '../test/builders.js';
import { useTempDir } from '../test/temp.js';
import { DecodedBodies, openStore } from './index.js';

const newSession = { name: 'pieces', source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} } as const;

/**
 * Bodies are stored as deltas from the object's previous version. A session read in consecutive pieces with one
 * DecodedBodies (what the online analysis does) decodes each piece's first version of an object from the body the
 * piece before decoded: every body must be the one a single read of the whole session gives, whatever the piece
 * boundaries, and when the memory is too small to hold every object.
 */
describe('DecodedBodies: reading a session in pieces', () => {
  const tempDir = useTempDir();

  function objectOf(record: StoredRecord): unknown {
    if (record.record !== 'watch') return null;
    return record.object ?? record.loadObject?.() ?? null;
  }

  it('gives every version the body a single read gives', () => {
    const store = openStore(join(tempDir(), 'kreplay.db'));
    const session = store.createSession(newSession);
    let rv = 100;
    const records = [];
    // Three objects changing in turn (interleaved, so each piece starts mid-chain for some of them).
    for (let i = 0; i < 60; i++) {
      for (const name of ['a', 'b', 'c']) {
        if (name === 'c' && i % 3 !== 0) continue;
        rv += 1;
        const object = deployment({ name, resourceVersion: String(rv), replicas: i, readyReplicas: i % 5, at: `2026-11-25T10:${String(i).padStart(2, '0')}:00Z` });
        // The object grows by one annotation a version: a delta applied to the wrong base loses some.
        for (let j = 0; j <= i; j++) (object.metadata!.annotations as Record<string, string>)[`step-${j}`] = String(j);
        records.push(watchEvent(object, i === 0 ? 'ADDED' : 'MODIFIED'));
      }
    }
    for (let i = 0; i < records.length; i += 25) store.append(session.id, records.slice(i, i + 25));
    const last = store.lastSeq(session.id);
    const whole = [...store.records(session.id, { withObjects: true })].map(objectOf);
    expect(whole.every((o) => o !== null)).toBe(true);

    for (const [piece, limit] of [[1, 20_000], [7, 20_000], [13, 1], [50, 2]] as const) {
      const bodies = new DecodedBodies(limit);
      for (const withObjects of [true, 'lazy'] as const) {
        const read: unknown[] = [];
        for (let from = 1; from <= last; from += piece) {
          for (const record of store.records(session.id, { fromSeq: from, toSeq: Math.min(last, from + piece - 1), withObjects, bodies })) read.push(objectOf(record));
        }
        expect(read, `pieces of ${piece}, ${limit} kept, ${withObjects}`).toEqual(whole);
      }
      expect(bodies.size).toBeLessThanOrEqual(limit);
    }
    // Pieces with gaps between them: a body kept from an earlier piece is a base only when it is the version just
    // before (the store looks that up), never for a version further on.
    const bodies = new DecodedBodies();
    for (const [from, to] of [[1, 30], [61, 75], [76, 76], [120, last]] as const) {
      const read = [...store.records(session.id, { fromSeq: from, toSeq: to, withObjects: true, bodies })].map(objectOf);
      expect(read, `seq ${from}-${to} after a gap`).toEqual(whole.slice(from - 1, to));
    }
    store.close();
  });
});
