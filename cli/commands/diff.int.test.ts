import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionRecord } from '../../model/index.js';
import { openStore } from '../../store/index.js';
import { useTempDir } from '../../test/temp.js';
import { runCli } from '../testing/run-cli.js';

const tempDir = useTempDir();
afterEach(() => {
  process.exitCode = undefined;
});

function configMap(name: string, uid: string, rv: string, size: string): SessionRecord {
  return {
    record: 'watch', observedAt: '2026-01-01T00:00:00.000Z', origin: 'watch', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', type: 'ADDED',
    namespace: 'ns', name, uid, resourceVersion: rv, generation: null,
    object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', uid, resourceVersion: rv }, data: { size } },
  };
}

function database(sessions: Record<string, SessionRecord[]>): string {
  const db = join(tempDir(), 'k.db');
  const store = openStore(db);
  for (const [name, records] of Object.entries(sessions)) {
    const info = store.createSession({ name, source: 'proxy', cluster: null, context: null, toolVersion: 'test', config: {} });
    store.append(info.id, records);
  }
  store.close();
  return db;
}

describe('kreplay diff', () => {
  it('exits 0 on the same end state and 1 with the differences, as text and JSON', async () => {
    const db = database({
      healthy: [configMap('a', 'u1', '5', '1'), configMap('b', 'u2', '6', '1')],
      again: [configMap('a', 'w1', '9', '1'), configMap('b', 'w2', '10', '1')],
      faulted: [configMap('a', 'x1', '7', '2')],
    });
    const same = await runCli(['--db', db, 'diff', 'healthy', 'again']);
    expect(same.out).toContain('the same end state');
    expect(process.exitCode).toBeUndefined();

    const text = await runCli(['--db', db, 'diff', 'healthy', 'faulted']);
    expect(text.out).toContain('only in healthy: ConfigMap ns/b');
    expect(text.out).toContain('.data.size: "1" → "2"');
    expect(process.exitCode).toBe(1);

    const json = await runCli(['--db', db, 'diff', 'healthy', 'faulted', '--json']);
    expect(JSON.parse(json.out)).toMatchObject({ kind: 'SessionDiff', a: 'healthy', b: 'faulted', same: false, onlyInA: [{ name: 'b' }], changed: [{ object: { name: 'a' } }] });
  });

  it('says which session it cannot find', async () => {
    const db = database({ healthy: [configMap('a', 'u1', '5', '1')] });
    const run = await runCli(['--db', db, 'diff', 'healthy', 'nope']);
    expect(run.code).toBe(2);
    expect(run.err).toContain('nope');
  });
});
