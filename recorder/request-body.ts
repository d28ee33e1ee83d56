import type http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { HttpProblem } from './http-problem.js';

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
  if (encoding === 'identity') {
    yield* counted(req);
    return;
  }
  const gunzip = createGunzip();
  const feeding = pipeline(counted(req), gunzip);
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

/** Splits chunks into lines (without the '\n'), joining a line spread over chunks once, when its end arrives. */
export async function* bodyLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  for await (const chunk of chunks) {
    let start = 0;
    for (let newline = chunk.indexOf(0x0a); newline !== -1; newline = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, newline);
      yield pending.length ? Buffer.concat([...pending, piece]) : piece;
      pending = [];
      start = newline + 1;
    }
    // A copy: a subarray would keep the whole chunk alive for a few bytes of it.
    if (start < chunk.length) pending.push(Buffer.from(chunk.subarray(start)));
  }
  if (pending.length) yield Buffer.concat(pending);
}
