import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { SessionInfo } from '../model/index.js';
import { DecodedBodies, type SessionStore } from '../store/index.js';
import { HttpProblem } from './http-problem.js';
import { UnknownFindingError, type LiveFindings } from './live-findings.js';
import { silentLogger, type Logger } from './log.js';
import type { CommittedBatch } from './writer.js';

/**
 * The recorder's read endpoints: what a workstation needs to look at a recording without stopping it.
 *
 *   GET /v1/findings[?since=<id>]                         check --json's document of the live session (live-findings.ts)
 *   GET /v1/sessions                                      sessions --json's document
 *   GET /v1/sessions/{name}/export?format=sqlite|json|markdown|html
 *   GET /v1/sessions/{name}/records?fromSeq=N[&follow=true]   NDJSON, one stored record a line, as they commit
 *
 * Auth is the ingest server's (ingest-server.ts authorizeRead). Reads go through the store's public API on the
 * recorder's own connection, in pages: each page is one short, closed read, and the response waits for the socket
 * (backpressure) between pages, so a slow client costs the writer nothing but a page's read at a time.
 */

export const exportFormats = ['sqlite', 'json', 'markdown', 'html'] as const;
export type RemoteExportFormat = (typeof exportFormats)[number];

/** Renders a session report (`kreplay export`'s formats); wired by the CLI, which owns the exporters. */
export interface SessionReports {
  render(store: SessionStore, session: SessionInfo, format: 'json' | 'markdown' | 'html'): Iterable<string>;
}

const contentTypes: Record<RemoteExportFormat, string> = {
  sqlite: 'application/vnd.sqlite3',
  json: 'application/json',
  markdown: 'text/markdown; charset=utf-8',
  html: 'text/html; charset=utf-8',
};
const extensions: Record<RemoteExportFormat, string> = { sqlite: 'db', json: 'json', markdown: 'md', html: 'html' };

/** Records per page of a records stream. */
const pageRecords = 200;

export interface ReadRouterOptions {
  readonly store: SessionStore;
  readonly findings?: LiveFindings | undefined;
  readonly reports?: SessionReports | undefined;
  readonly log?: Logger | undefined;
}

export class ReadRouter {
  private readonly log: Logger;
  /** Followers waiting for the next commit. */
  private waiting = new Set<() => void>();
  private closed = false;

  constructor(private readonly options: ReadRouterOptions) {
    this.log = options.log ?? silentLogger;
  }

  /** The writer's notification: wakes the followers. */
  committed(_commit: CommittedBatch): void {
    this.wake();
  }

  /** Ends every follower's stream (after what it has already read); new requests still answer. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = new Set();
    for (const resolve of waiting) resolve();
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<boolean> {
    const path = url.pathname;
    if (path === '/v1/findings') return this.findings(res, url), true;
    if (path === '/v1/sessions') return this.sessions(res), true;
    const match = /^\/v1\/sessions\/([^/]+)\/(export|records)$/.exec(path);
    if (!match) return false;
    const session = this.session(decodeURIComponent(match[1]!));
    if (match[2] === 'export') await this.export(res, session, url);
    else await this.records(req, res, session, url);
    return true;
  }

  private session(name: string): SessionInfo {
    const session = this.options.store.findSession(name);
    if (!session) throw new HttpProblem(404, `no session "${name}" in the recorder's database (GET /v1/sessions lists them)`);
    return session;
  }

  private findings(res: http.ServerResponse, url: URL): void {
    const live = this.options.findings;
    if (!live) throw new HttpProblem(404, 'online detection is off in this recorder');
    const since = url.searchParams.get('since') ?? undefined;
    let document;
    try {
      document = live.document(since);
    } catch (error) {
      if (error instanceof UnknownFindingError) throw new HttpProblem(404, error.message);
      throw error;
    }
    if (!document && live.stopped) throw new HttpProblem(503, live.stopped);
    if (!document) throw new HttpProblem(503, 'the first analysis of the session has not finished yet; retry in a second', {}, { 'Retry-After': '1' });
    sendJson(res, document);
  }

  private sessions(res: http.ServerResponse): void {
    sendJson(res, { sessions: this.options.store.listSessions() });
  }

  private async export(res: http.ServerResponse, session: SessionInfo, url: URL): Promise<void> {
    const format = (url.searchParams.get('format') ?? 'sqlite') as RemoteExportFormat;
    if (!exportFormats.includes(format)) throw new HttpProblem(400, `format "${format}" is not one of ${exportFormats.join(', ')}`);
    const headers = {
      'Content-Type': contentTypes[format],
      'Content-Disposition': `attachment; filename="${session.name}.${extensions[format]}"`,
    };
    if (format === 'sqlite') return this.exportSqlite(res, session, headers);
    const reports = this.options.reports;
    if (!reports) throw new HttpProblem(404, `this recorder renders no ${format} reports; pull the sqlite export and run kreplay export on it`);
    res.writeHead(200, headers);
    for (const chunk of reports.render(this.options.store, session, format)) {
      if (!res.write(chunk)) await drained(res);
      if (res.destroyed) return;
    }
    res.end();
  }

  /** A consistent copy of that one session, written to a temporary file (store.copySession), then streamed. */
  private async exportSqlite(res: http.ServerResponse, session: SessionInfo, headers: Record<string, string>): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'kreplay-export-'));
    try {
      const file = join(dir, 'session.db');
      const started = performance.now();
      await this.options.store.copySession(session.id, file);
      this.log.info('session exported', { session: session.name, format: 'sqlite', ms: Math.round(performance.now() - started) });
      res.writeHead(200, headers);
      try {
        await pipeline(createReadStream(file), res);
      } catch (error) {
        // The client hung up mid-download: nothing to answer, nothing to log as a failure.
        if ((error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
        this.log.debug('export abandoned by the client', { session: session.name });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private async records(req: http.IncomingMessage, res: http.ServerResponse, session: SessionInfo, url: URL): Promise<void> {
    const fromText = url.searchParams.get('fromSeq') ?? '1';
    if (!/^\d+$/.test(fromText)) throw new HttpProblem(400, `fromSeq must be a whole number, got "${fromText}"`);
    const follow = url.searchParams.get('follow') === 'true';
    const { store } = this.options;
    let after = Math.max(0, Number(fromText) - 1);
    let gone = false;
    req.on('close', () => {
      gone = true;
      this.wake();
    });
    // A followed stream ends when the recorder stops: the connection closes with it (kept alive, it would hold up the
    // server's close until the client drops it).
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store', ...(follow ? { Connection: 'close' } : {}) });
    // Each object's newest body as this stream last sent it: the next version is its delta applied to that, where a
    // page read on its own rebuilt nearly every record from its object's keyframe (a page of 200 records of 1,000
    // objects holds few versions of any one of them).
    const bodies = new DecodedBodies();
    for (;;) {
      // Registered before the read: a commit landing between the read and the wait still wakes this follower.
      const next = follow ? new Promise<void>((resolve) => this.waiting.add(resolve)) : undefined;
      // Seqs are dense (records are only deleted with their whole session): a short range is the end of the session.
      const page = [...store.records(session.id, { fromSeq: after + 1, toSeq: after + pageRecords, withObjects: true, parallel: false, bodies })];
      for (const record of page) {
        if (!res.write(`${JSON.stringify(record)}\n`)) await drained(res);
        after = record.seq;
        if (gone || res.destroyed) return;
      }
      if (page.length === pageRecords) {
        // A follower catching up reads page after page: let the writer commit and the watches be read in between.
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      // Caught up. A session that has ended gets no more records; nor does a follower after the recorder stops.
      if (!follow || this.closed || store.findSession(String(session.id))?.endedAt) break;
      await next;
      if (gone || res.destroyed) return;
    }
    res.end();
  }
}

function sendJson(res: http.ServerResponse, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

function drained(res: http.ServerResponse): Promise<void> {
  // A client that hung up already emitted its 'close': waiting for one would wait forever.
  if (res.destroyed || res.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
