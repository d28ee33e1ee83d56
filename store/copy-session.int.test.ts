import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SessionRecord } from '../model/index.js';
import { useTempDir } from '../test/temp.js';
import { openStore } from './index.js';

const tempDir = useTempDir();

function markers(n: number, from = 0): SessionRecord[] {
  return Array.from({ length: n }, (_, i) => ({ record: 'marker', observedAt: `2026-12-07T01:00:${String((from + i) % 60).padStart(2, '0')}.000Z`, origin: 'watch', marker: 'gap', message: `m${from + i}` }) as SessionRecord);
}

describe('copySession', () => {
  it('writes one session, and only it, to a new file; records appended meanwhile never break the copy', async () => {
    const store = openStore(join(tempDir(), 'kreplay.db'));
    try {
      const other = store.createSession({ name: 'other', source: 'recorder', cluster: null, context: null, toolVersion: 't', config: {} });
      store.append(other.id, markers(50));
      const live = store.createSession({ name: 'live', source: 'recorder', cluster: null, context: null, toolVersion: 't', config: { a: 1 } });
      store.append(live.id, markers(300));
      const out = join(tempDir(), 'copy.db');
      const copying = store.copySession(live.id, out);
      store.append(live.id, markers(5, 300)); // while the copy runs
      await copying;
      const copy = openStore(out, { readonly: true });
      try {
        expect(copy.listSessions().map((s) => s.name)).toEqual(['live']);
        const id = copy.findSession('live')!.id;
        const seqs = [...copy.records(id)].map((r) => r.seq);
        expect(seqs.length === 300 || seqs.length === 305).toBe(true);
        expect([...copy.records(id)]).toEqual([...store.records(live.id, { toSeq: seqs.length })]);
      } finally {
        copy.close();
      }
      expect(existsSync(`${out}.whole`)).toBe(false);
      await expect(store.copySession(live.id, out)).rejects.toThrow(/already exists/);
    } finally {
      store.close();
    }
  });

  it('copies the only session as it is', async () => {
    const store = openStore(join(tempDir(), 'kreplay.db'));
    try {
      const live = store.createSession({ name: 'solo', source: 'recorder', cluster: null, context: null, toolVersion: 't', config: {} });
      store.append(live.id, markers(20));
      const out = join(tempDir(), 'solo.db');
      await store.copySession(live.id, out);
      const copy = openStore(out, { readonly: true });
      try {
        expect([...copy.records(copy.findSession('solo')!.id)]).toEqual([...store.records(live.id)]);
      } finally {
        copy.close();
      }
    } finally {
      store.close();
    }
  });
});
