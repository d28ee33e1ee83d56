// Watch checkpoints (migrations/0006_watch_checkpoints.sql) are written by append in the same transaction as the
// records that carry them: on disk exactly when those records are. Checked on real SQLite files, including a writer
// process killed with SIGKILL in the middle of its appends.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SessionRecord } from '../model/index.js';
import { useTempDir } from '../test/temp.js';
import { openStore } from './index.js';

const tempDir = useTempDir();

function event(rv: number, name = `cm-${rv % 7}`): SessionRecord {
  return {
    record: 'watch',
    observedAt: '2026-12-06T10:00:00.000Z',
    origin: 'watch',
    group: '',
    version: 'v1',
    resource: 'configmaps',
    kind: 'ConfigMap',
    type: 'MODIFIED',
    namespace: 'ns',
    name,
    uid: `u-${name}`,
    resourceVersion: String(rv),
    generation: null,
    object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', uid: `u-${name}`, resourceVersion: String(rv) }, data: { rv: String(rv) } },
  };
}

function newSession(path: string) {
  const store = openStore(path);
  const session = store.createSession({ name: 'rec', source: 'recorder', cluster: null, context: null, toolVersion: 't', config: {} });
  return { store, session };
}

describe('watch checkpoints', () => {
  it('are written with their records, through the seq of the record that carries them; the last per watch wins', () => {
    const { store, session } = newSession(join(tempDir(), 'kreplay.db'));
    store.append(session.id, [event(10), event(11), event(12)], [
      { watch: 'v1/configmaps@ns', resourceVersion: '11', record: 1 },
      { watch: 'v1/configmaps@ns', resourceVersion: '12', record: 2 },
    ]);
    expect(store.watchCheckpoints(session.id)).toMatchObject([{ watch: 'v1/configmaps@ns', resourceVersion: '12', throughSeq: 3 }]);
    store.append(session.id, [{ record: 'marker', observedAt: null, origin: 'watch', marker: 'watch-started' }, event(13)], [
      { watch: 'v1/configmaps@ns', resourceVersion: '13', record: 1 },
      { watch: 'v1/secrets@ns', resourceVersion: '13', record: 1 },
    ]);
    expect(store.watchCheckpoints(session.id)).toMatchObject([
      { watch: 'v1/configmaps@ns', resourceVersion: '13', throughSeq: 5 },
      { watch: 'v1/secrets@ns', resourceVersion: '13', throughSeq: 5 },
    ]);
    // Checkpoints belong to their session: another one has none, and deleting the session removes them.
    const other = store.createSession({ name: 'other', source: 'recorder', cluster: null, context: null, toolVersion: 't', config: {} });
    expect(store.watchCheckpoints(other.id)).toEqual([]);
    store.deleteSession(session.id);
    expect(store.watchCheckpoints(session.id)).toEqual([]);
    store.close();
  });

  it('stay where they were when the append rolls back, and refuse to name a record outside the append', () => {
    const path = join(tempDir(), 'kreplay.db');
    const { store, session } = newSession(path);
    store.append(session.id, [event(1)], [{ watch: 'w', resourceVersion: '1', record: 0 }]);
    // A failure half-way through the transaction, from SQLite itself: a trigger refusing the second row.
    const other = new Database(path);
    other.exec(`CREATE TRIGGER refuse_rv_3 BEFORE INSERT ON records WHEN NEW.resource_version = '3' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;`);
    other.close();
    expect(() => store.append(session.id, [event(2), event(3), event(4)], [{ watch: 'w', resourceVersion: '4', record: 2 }])).toThrow(/refused by the test/);
    expect(store.watchCheckpoints(session.id)).toMatchObject([{ watch: 'w', resourceVersion: '1', throughSeq: 1 }]);
    expect(store.lastSeq(session.id)).toBe(1);
    expect(() => store.append(session.id, [event(5)], [{ watch: 'w', resourceVersion: '5', record: 1 }])).toThrow(/names record 1 of an append of 1/);
    expect(store.watchCheckpoints(session.id)).toMatchObject([{ resourceVersion: '1' }]);
    store.close();
  });

  it('a writer killed with SIGKILL mid-append never leaves a checkpoint ahead of (or behind) its records', async () => {
    const dir = tempDir();
    const storeModule = fileURLToPath(new URL('./index.ts', import.meta.url));
    // The child appends batches of 50 watch events as fast as it can, each batch moving the checkpoint to its last
    // record, the way the recorder's writer does; it is killed at an arbitrary point of an append.
    const script = join(dir, 'appender.ts');
    writeFileSync(
      script,
      `import { openStore } from ${JSON.stringify(storeModule)};
const store = openStore(process.argv[2]);
const session = store.findSession('rec');
let rv = store.lastSeq(session.id);
for (let batch = 0; ; batch += 1) {
  const records = [];
  for (let i = 0; i < 50; i += 1) {
    rv += 1;
    const name = 'cm-' + (rv % 7);
    records.push({ record: 'watch', observedAt: null, origin: 'watch', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', type: 'MODIFIED',
      namespace: 'ns', name, uid: 'u-' + name, resourceVersion: String(rv), generation: null,
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', uid: 'u-' + name, resourceVersion: String(rv) }, data: { rv: String(rv), pad: 'x'.repeat(rv % 500) } } });
  }
  store.append(session.id, records, [{ watch: 'w', resourceVersion: String(rv), record: records.length - 1 }]);
  if (batch === 5) process.stdout.write('appending\\n');
}
`,
    );
    for (const [round, delayMs] of [150, 40, 310].entries()) {
      const path = join(dir, `kill-${round}.db`);
      newSession(path).store.close();
      const child = spawn(process.execPath, ['--import', 'tsx', script, path], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`the appender exited (${code}) before appending: ${stderr}`)));
      });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;

      const store = openStore(path);
      const session = store.findSession('rec')!;
      const lastSeq = store.lastSeq(session.id);
      expect(lastSeq).toBeGreaterThanOrEqual(300);
      const [checkpoint] = store.watchCheckpoints(session.id);
      // Exactly the last committed record: a resume from it neither skips a version nor repeats one.
      expect(checkpoint).toMatchObject({ watch: 'w', throughSeq: lastSeq });
      const last = store.record(session.id, lastSeq);
      expect(last).toMatchObject({ record: 'watch', resourceVersion: checkpoint!.resourceVersion });
      expect(lastSeq % 50).toBe(0);
      store.close();
    }
  }, 30_000);
});
