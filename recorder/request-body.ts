import type http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { HttpProblem } from './http-problem.js';

const gzipPieceBytes = 1024;

/**
 * A request body as a stream of chunks, never whole: what a request costs in memory is what its handler keeps of
 * it, not the body. Both the bytes on the wire and the bytes after gzip are bounded by `limit` (server.maxBodySize),
 * so a 64 MiB gzip bomb is refused after `limit` bytes of output, not after inflating it.
 */
export async function* bodyChunks(req: http.IncomingMessage, limit: number): AsyncGenerator<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new HttpProblem(413, `the body is ${declared} bytes; the limit is ${limit} (server.maxBodySize)`);
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'gzip' && encoding !== 'identity') throw new HttpProblem(415, `Content-Encoding ${encoding} is not supported (use gzip or none)`);

  let received = 0;
  async function* counted(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      received += chunk.length;
      if (received > limit) throw new HttpProblem(413, `the body is over the limit of ${limit} bytes (server.maxBodySize)`);
      yield chunk;
    }
  }
  // Not destroyed when a handler stops reading early: it still answers on this connection (drainBody).
  const source = req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
  if (encoding === 'identity') {
    yield* counted(source);
    return;
  }
  // zlib inflates a whole written chunk before it looks at its reader: one 64 KiB piece of a bomb is 64 MiB of
  // output. Fed a KiB at a time, what it holds before the limit below stops it is about a MiB (deflate's ratio is at
  // most 1032:1).
  async function* small(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) for (let at = 0; at < chunk.length; at += gzipPieceBytes) yield chunk.subarray(at, at + gzipPieceBytes);
  }
  const gunzip = createGunzip();
  const feeding = pipeline(small(counted(source)), gunzip);
  // Its failure is the output's failure too (the gunzip stream is destroyed with it): read there, not twice.
  feeding.catch(() => undefined);
  let inflated = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      inflated += chunk.length;
      if (inflated > limit) throw new HttpProblem(413, `the body inflates to more than ${limit} bytes (server.maxBodySize)`);
      yield chunk;
    }
    await feeding;
  } catch (error) {
    if (error instanceof HttpProblem) throw error;
    throw new HttpProblem(400, `gzip body: ${(error as Error).message}`);
  } finally {
    gunzip.destroy();
  }
}

function lineTooLong(line: number, max: number): HttpProblem {
  return new HttpProblem(413, `line ${line}: a record is at most ${max} bytes`, { line });
}

/**
 * Splits chunks into lines (without the '\n'), joining a line spread over chunks once, when its end arrives. A line
 * longer than `maxLineBytes` is refused as soon as it is: no record needs more.
 */
export async function* bodyLines(chunks: AsyncIterable<Buffer>, maxLineBytes: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let line = 1;
  for await (const chunk of chunks) {
    let start = 0;
    for (let newline = chunk.indexOf(0x0a); newline !== -1; newline = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, newline);
      if (pendingBytes + piece.length > maxLineBytes) throw lineTooLong(line, maxLineBytes);
      yield pending.length ? Buffer.concat([...pending, piece]) : piece;
      pending = [];
      pendingBytes = 0;
      line += 1;
      start = newline + 1;
    }
    pendingBytes += chunk.length - start;
    if (pendingBytes > maxLineBytes) throw lineTooLong(line, maxLineBytes);
    // A view, not a copy: it keeps one chunk alive until its line ends, and a copy per chunk doubled what a long
    // line allocated (garbage the collector frees late, which is resident memory meanwhile).
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length) yield Buffer.concat(pending);
}

/**
 * Reads and discards what is left of a refused body (up to `cap` bytes), so the client, which is still sending it,
 * reads the answer instead of a reset connection. Past the cap the connection is closed after the answer.
 */
export async function drainBody(req: http.IncomingMessage, cap: number): Promise<boolean> {
  if (req.complete || req.destroyed) return true;
  let drained = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    drained += chunk.length;
    if (drained > cap) return false;
  }
  return true;
}
