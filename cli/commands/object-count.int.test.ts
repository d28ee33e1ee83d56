import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiRequestRecord, MarkerRecord, SessionRecord } from '../../model/index.js';
import { openStore } from '../../store/index.js';
import { deployment, watchEvent } from '../../test/builders.js';
import { useTempDir } from '../../test/temp.js';
import { runCli } from '../testing/run-cli.js';

async function run(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const { out, err } = await runCli(args, env);
  if (!out) throw new Error(`kreplay ${args.join(' ')} printed nothing: ${err}`);
  return out;
}

const at = (s: number) => `2026-11-25T10:00:${String(s).padStart(2, '0')}.000Z`;
const list = (marker: 'list-started' | 'list-finished', s: number): MarkerRecord => ({
  record: 'marker', observedAt: at(s), origin: 'watch', marker, group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment',
});
const api = (s: number, name: string, verb: ApiRequestRecord['verb'], code: number, actor = 'system:serviceaccount:default:web-operator'): ApiRequestRecord => ({
  record: 'api', observedAt: at(s), origin: 'audit', actor, byController: actor.endsWith(':web-operator'), verb, code,
  object: { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'default', name },
});

/**
 * web is deleted and created again (two objects: two uids), db is listed twice (a relist names it again), and the
 * controller keeps GETting "ghost", which never existed (audit records without a uid: one object by name); the
 * audit DELETE of web and PATCH of db carry no uid and are about the objects of their names.
 */
function records(): SessionRecord[] {
  return [
    list('list-started', 0),
    watchEvent(deployment({ name: 'web', uid: 'u-web', resourceVersion: '1' }), 'ADDED', { origin: 'relist', observedAt: at(0) }),
    watchEvent(deployment({ name: 'db', uid: 'u-db', resourceVersion: '2' }), 'ADDED', { origin: 'relist', observedAt: at(0) }),
    list('list-finished', 0),
    api(1, 'web', 'delete', 200, 'kubernetes-admin'),
    watchEvent(deployment({ name: 'web', uid: 'u-web', resourceVersion: '3' }), 'DELETED', { observedAt: at(1) }),
    api(2, 'ghost', 'get', 404),
    api(3, 'ghost', 'get', 404),
    api(4, 'db', 'patch', 200),
    watchEvent(deployment({ name: 'db', uid: 'u-db', resourceVersion: '4', replicas: 4 }), 'MODIFIED', { observedAt: at(4) }),
    // The watch expired: relist.
    list('list-started', 5),
    watchEvent(deployment({ name: 'db', uid: 'u-db', resourceVersion: '4', replicas: 4 }), 'ADDED', { origin: 'relist', observedAt: at(5) }),
    list('list-finished', 5),
    watchEvent(deployment({ name: 'web', uid: 'u-web-2', resourceVersion: '5' }), 'ADDED', { observedAt: at(6) }),
  ];
}

describe('objects per session', () => {
  const tempDir = useTempDir();

  it('are the same number in sessions, show, check and every export format', async () => {
    const db = join(tempDir(), 'kreplay.db');
    const store = openStore(db);
    const session = store.createSession({ name: 'counted', source: 'import:ndjson', cluster: null, context: null, toolVersion: 'test', config: {} });
    store.append(session.id, records());
    store.close();
    const env = { KREPLAY_DB: db, SOURCE_DATE_EPOCH: '1764064800' };

    const sessions = JSON.parse(await run(['sessions', '--json'], env)) as { sessions: { objectCount: number }[] };
    const show = JSON.parse(await run(['show', 'counted', '--json'], env)) as { resources: { objects: number }[] };
    const check = JSON.parse(await run(['check', 'counted', '--json'], env)) as { summary: { objects: number } };
    const json = JSON.parse(await run(['export', 'counted', '--format', 'json'], env)) as { summary: { objects: number } };
    const markdown = /\| Objects \| (\d+) \|/.exec(await run(['export', 'counted', '--format', 'markdown'], env))?.[1];
    const html = /"summary":\{"records":\d+,"recordsByKind":\{[^}]*\},"objects":(\d+)/.exec(await run(['export', 'counted', '--format', 'html'], env))?.[1];

    const counts = {
      sessions: sessions.sessions[0]!.objectCount,
      show: show.resources.reduce((n, r) => n + r.objects, 0),
      check: check.summary.objects,
      json: json.summary.objects,
      markdown: Number(markdown),
      html: Number(html),
    };
    // web (deleted), web (created again), db, ghost.
    expect(counts).toEqual({ sessions: 4, show: 4, check: 4, json: 4, markdown: 4, html: 4 });
  });
});
