import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionInfo, SessionRecord, StoredRecord } from '../../model/index.js';
import { openStore } from '../../store/index.js';
import { UserError } from '../errors.js';
import { remoteGet, type RemoteRecorder } from '../remote.js';

/**
 * A running recorder's session, mirrored into a temporary local database as it records (`replay --follow --from`):
 * the records stream in from GET /v1/sessions/{name}/records?follow=true and are appended as they arrive, so the TUI
 * and its analysis worker read a local file exactly as they do for a local recording. Removed on stop().
 */
export async function mirrorRemoteSession(remote: RemoteRecorder, name: string): Promise<{ dbPath: string; sessionName: string; stop: () => Promise<void> }> {
  const listed = (await (await remoteGet(remote, '/v1/sessions')).json()) as { sessions: SessionInfo[] };
  const info = listed.sessions.find((s) => s.name === name || String(s.id) === name);
  if (!info) throw new UserError(`the recorder at ${remote.base} has no session "${name}"`, `It has: ${listed.sessions.map((s) => s.name).join(', ') || 'none'}.`);
  const dir = mkdtempSync(join(tmpdir(), 'kreplay-follow-'));
  const dbPath = join(dir, 'mirror.db');
  const store = openStore(dbPath);
  const session = store.createSession({ name: info.name, source: info.source, cluster: info.cluster, context: info.context, toolVersion: info.toolVersion, config: { ...info.config, mirroredFrom: remote.base }, startedAt: info.startedAt });
  const abort = new AbortController();
  const response = await remoteGet(remote, `/v1/sessions/${encodeURIComponent(info.name)}/records?fromSeq=1&follow=true`, { signal: abort.signal });
  // The first records before the TUI opens: it opens on a session that has some.
  const streaming = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      const end = buffer.lastIndexOf('\n');
      if (end < 0) continue;
      const lines = buffer.slice(0, end).split('\n').filter(Boolean);
      buffer = buffer.slice(end + 1);
      const records = lines.map((line) => {
        const { seq: _seq, ...record } = JSON.parse(line) as StoredRecord;
        return record as SessionRecord;
      });
      store.append(session.id, records);
    }
  })().catch((error: unknown) => {
    if ((error as Error).name !== 'AbortError') throw error;
  });
  return {
    dbPath,
    sessionName: info.name,
    stop: async () => {
      abort.abort();
      await streaming.catch(() => undefined);
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
