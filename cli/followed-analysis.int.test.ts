import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { asNewRecord, type SessionRecord } from '../model/index.js';
import { analyze, type AnalyzeOptions } from '../replayer/index.js';
import { openStore, type SessionStore } from '../store/index.js';
import { pairedUpdate } from '../test/builders.js';
import { oneMarkerSession, writeOldDatabase } from '../test/old-database.js';
import { importScenario, labelledScenarios } from '../test/scenarios/labelled.js';
import { useTempDir } from '../test/temp.js';
import { FollowedAnalysis } from './followed-analysis.js';

/**
 * A follower in another process (`check --follow`, `replay --follow`): its own read-only connection to a file a
 * writer appends to. Each refresh must say exactly what analyze() says of the session as far as it read, while it
 * reads each record once, and read the session again only when a row it read changed.
 */

const tempDir = useTempDir();
const opened: SessionStore[] = [];
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});

function open(path: string, readonly = false): SessionStore {
  const store = openStore(path, { readonly });
  opened.push(store);
  return store;
}

const newSession = (name: string, config: Record<string, unknown> = {}) => ({ name, source: 'recorder', cluster: null, context: null, toolVersion: 'test', config }) as const;

/** analyze() of seq 1..throughSeq, read afresh. */
function fresh(store: SessionStore, sessionId: number, throughSeq: number, options: AnalyzeOptions) {
  return analyze(store.records(sessionId, { withObjects: 'lazy', toSeq: throughSeq }), options);
}

describe('a followed analysis equals analyze() of what it read', () => {
  for (const { name, expected } of labelledScenarios()) {
    it(name, async () => {
      const path = join(tempDir(), 'follow.db');
      const writer = open(path);
      const source = await importScenario(writer, name, expected.import, { strict: true });
      const records = [...writer.records(source.id, { withObjects: true })].map(asNewRecord);
      const session = writer.createSession(newSession('followed', source.config));
      const follower = open(path, true);
      const options: AnalyzeOptions = { ...(expected.config ? { config: expected.config as AnalyzeOptions['config'] } : {}), ...(expected.import.controller ? { controller: [expected.import.controller] } : {}) };
      const followed = new FollowedAnalysis(follower, session.id, options);
      let refreshes = 0;
      for (let i = 0; i < records.length; i += 37) {
        writer.append(session.id, records.slice(i, i + 37));
        const refresh = followed.refresh();
        refreshes++;
        expect(refresh.throughSeq).toBe(writer.lastSeq(session.id));
        expect(refresh.analysis!.findings, `after ${refresh.throughSeq} records`).toEqual(fresh(follower, session.id, refresh.throughSeq, options).findings);
        expect(refresh.analysis!.stats).toEqual(fresh(follower, session.id, refresh.throughSeq, options).stats);
      }
      // Nothing new: nothing analysed again.
      expect(followed.refresh().analysis).toBeUndefined();
      expect(followed.restarts).toBe(0);
      if (records.length > 37) expect(refreshes).toBeGreaterThan(1);
    });
  }
});

describe('rows that change after they were read', () => {
  const { at, sdk, audit } = pairedUpdate();
  const marker = (ms: number): SessionRecord => ({ record: 'marker', observedAt: at(ms), origin: 'watch', marker: 'watch-started' });

  function setUp() {
    const path = join(tempDir(), 'merge.db');
    const writer = open(path);
    const session = writer.createSession(newSession('merged'));
    const follower = open(path, true);
    return { writer, follower, session, followed: new FollowedAnalysis(follower, session.id, {}) };
  }

  it('reads the session again when a merge changed a row it had read, and reports the merged rows', () => {
    const { writer, follower, session, followed } = setUp();
    writer.append(session.id, Array.from({ length: 12 }, (_, i) => sdk(i)));
    expect(followed.refresh().throughSeq).toBe(12);
    const before = [...follower.records(session.id, { withObjects: 'lazy' })];

    // One append: the twelve audit events merge into rows 1-12, and a marker is new.
    expect(writer.append(session.id, [...Array.from({ length: 12 }, (_, i) => audit(i)), marker(20_000)])).toMatchObject({ count: 1, merged: 12, changedFromSeq: 1 });
    expect(follower.progress(session.id)).toEqual({ lastSeq: 13, rewrites: { count: 1, fromSeq: 1 }, ended: false });
    const refresh = followed.refresh();
    expect(refresh.restarted).toBe(true);
    expect(followed.restarts).toBe(1);
    expect(refresh.analysis!.findings).toEqual(fresh(follower, session.id, 13, {}).findings);
    expect(refresh.analysis!.stats).toEqual(fresh(follower, session.id, 13, {}).stats);
    // The test means something: the rows as first read analyse differently from the merged ones.
    const stale = analyze([...before, ...follower.records(session.id, { withObjects: 'lazy', fromSeq: 13 })], {});
    expect(stale.stats).not.toEqual(refresh.analysis!.stats);
  });

  it('goes on without reading again when the merge changed only rows it had not read yet', () => {
    const { writer, follower, session, followed } = setUp();
    writer.append(session.id, [marker(0)]);
    expect(followed.refresh().throughSeq).toBe(1);
    writer.append(session.id, [sdk(1), sdk(2)]);
    // Rows 2 and 3 change before the follower read them.
    expect(writer.append(session.id, [audit(1), audit(2)])).toMatchObject({ changedFromSeq: 2 });
    const refresh = followed.refresh();
    expect(refresh.restarted).toBe(false);
    expect(refresh.throughSeq).toBe(3);
    expect(refresh.analysis!.findings).toEqual(fresh(follower, session.id, 3, {}).findings);
    expect(refresh.analysis!.stats).toEqual(fresh(follower, session.id, 3, {}).stats);
  });

  it('reads again when more than one merging append came since its last refresh (only the latest one says where)', () => {
    const { writer, session, followed } = setUp();
    writer.append(session.id, [sdk(1), sdk(2), marker(10_000)]);
    followed.refresh();
    writer.append(session.id, [marker(11_000), sdk(3)]);
    // The first merge changes row 2, which was read; the second only row 5, which was not: the first must count.
    writer.append(session.id, [audit(2)]);
    writer.append(session.id, [audit(3)]);
    expect(followed.refresh().restarted).toBe(true);
  });

  it('in a database older than schema 9, read-only, reads again whenever the session grew, and not otherwise', () => {
    const path = join(tempDir(), 'v8.db');
    writeOldDatabase(path, 8, oneMarkerSession('v8-run', 'watch-started'));
    const follower = open(path, true);
    expect(follower.progress(1)).toEqual({ lastSeq: 1, rewrites: null, ended: false });
    const followed = new FollowedAnalysis(follower, 1, {});
    expect(followed.refresh().analysis!.stats.records).toBe(1);
    expect(followed.refresh()).toMatchObject({ analysis: undefined, restarted: false });
    // A writer of this build upgrades the file; the follower opened before that still reads it as version 8.
    const writer = open(path);
    expect(writer.progress(1).rewrites).toEqual({ count: 0, fromSeq: null });
    writer.append(1, [marker(5_000)]);
    const refresh = followed.refresh();
    expect(refresh.restarted).toBe(true);
    expect(refresh.analysis!.stats.records).toBe(2);
  });
});
