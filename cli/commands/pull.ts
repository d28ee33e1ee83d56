import { createWriteStream, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { asNewRecord, SessionName, type SessionRecord } from '../../model/index.js';
import { openStore, type SessionStore } from '../../store/index.js';
import type { CliContext } from '../context.js';
import { UserError } from '../errors.js';
import { formatBytes } from '../format.js';
import { remoteGet, remoteRecorder } from '../remote.js';

/** Records per append when the pulled session is written into the local database. */
const copyBatch = 500;

interface PullOptions {
  tokenFile?: string;
  as?: string;
}

/** Copies one session of `from` into `to` under `name`, records in seq order, with its metadata and problems. */
export function copySession(from: SessionStore, fromId: number, to: SessionStore, name: string, extraConfig: Record<string, unknown>): { id: number; records: number } {
  const source = from.findSession(String(fromId))!;
  const session = to.createSession({
    name,
    source: source.source,
    cluster: source.cluster,
    context: source.context,
    toolVersion: source.toolVersion,
    config: { ...source.config, ...extraConfig },
    startedAt: source.startedAt,
  });
  let batch: SessionRecord[] = [];
  let records = 0;
  try {
    for (const record of from.records(fromId, { withObjects: true })) {
      batch.push(asNewRecord(record));
      if (batch.length >= copyBatch) {
        records += to.append(session.id, batch).count;
        batch = [];
      }
    }
    if (batch.length) records += to.append(session.id, batch).count;
  } catch (error) {
    // Half a session is worse than none: the user would take it for the whole one.
    to.deleteSession(session.id);
    throw error;
  }
  if (source.partial) to.markPartial(session.id, source.problems);
  to.endSession(session.id, source.endedAt);
  return { id: session.id, records };
}

export function registerPull(program: Command, context: CliContext): void {
  program
    .command('pull')
    .description("copy a session out of a running recorder into the local database (the recorder keeps recording)")
    .argument('<url>', "the recorder's address, e.g. http://127.0.0.1:8090 after kubectl port-forward deploy/<controller> 8090")
    .argument('<session>', 'the session to pull (kreplay sessions lists the local ones; GET <url>/v1/sessions the remote ones)')
    .option('--token-file <file>', "file holding the recorder's bearer token (default: $KREPLAY_INGEST_TOKEN)")
    .option('--as <name>', 'store it under this name instead of the remote one')
    .addHelpText(
      'after',
      `
The recorder's bearer token is needed (its read endpoints are off without one, unless it listens on loopback only):
  kubectl port-forward -n team-a deploy/web-operator 8090
  kreplay pull http://127.0.0.1:8090 record-20261207-010203 --token-file ./recorder.token
  kreplay check record-20261207-010203
The session is a consistent snapshot as of the pull; pulling again needs --as (a pull never overwrites a session).`,
    )
    .action(async (url: string, remoteName: string, options: PullOptions) => {
      const remote = remoteRecorder(url, options.tokenFile, context.env);
      const name = options.as ?? remoteName;
      const valid = SessionName.safeParse(name);
      if (!valid.success) throw new UserError(`${options.as ? '--as' : 'the session name'}: ${valid.error.issues[0]?.message ?? 'invalid name'}`);
      const local = context.openStore();
      try {
        const existing = local.findSession(name);
        if (existing?.name === name) throw new UserError(`a session named "${name}" already exists in ${local.path}`, `Pull it under another name with --as, or delete the local one first (kreplay delete ${name}).`);
        const temp = join(dirname(local.path), `.kreplay-pull-${process.pid}.db`);
        try {
          const response = await remoteGet(remote, `/v1/sessions/${encodeURIComponent(remoteName)}/export?format=sqlite`);
          await pipeline(Readable.fromWeb(response.body as WebReadableStream), createWriteStream(temp, { flags: 'wx' }));
          const pulled = openStore(temp);
          try {
            const session = pulled.listSessions()[0];
            if (!session) throw new UserError(`the recorder sent no session for "${remoteName}"`);
            const copied = copySession(pulled, session.id, local, name, { pulledFrom: remote.base });
            context.output.err(`pulled session ${session.name}${name !== session.name ? ` as ${name}` : ''} from ${remote.base}: ${copied.records} record(s)${session.endedAt ? '' : ' (still recording there: this is a snapshot)'} into ${local.path} (${formatBytes(pulled.listSessions()[0]!.bytesOnDisk)})\n`);
          } finally {
            pulled.close();
          }
        } finally {
          for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${temp}${suffix}`, { force: true });
        }
      } finally {
        local.close();
      }
    });
}
