import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { paceReads, type ReadPacer } from './read-pacer.js';

/** A loopback server that writes `count` numbered lines, one every `everyMs`, to the first client. */
async function trickle(count: number, everyMs: number): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    let i = 0;
    const timer = setInterval(() => {
      if (socket.destroyed) return clearInterval(timer);
      socket.write(`line ${i}\n`);
      if (++i === count) {
        clearInterval(timer);
        socket.end();
      }
    }, everyMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Reads the whole stream through a pacer; counts the socket reads and keeps the text. */
async function readAll(port: number, intervalMs: number, onData?: (pacer: ReadPacer, reads: number) => void): Promise<{ reads: number; text: string; pacer: ReadPacer }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const pacer = paceReads(socket, intervalMs);
  let reads = 0;
  let text = '';
  socket.on('data', (chunk: Buffer) => {
    reads += 1;
    text += chunk.toString();
    pacer.afterData();
    onData?.(pacer, reads);
  });
  await new Promise((resolve) => socket.once('end', resolve));
  pacer.release();
  socket.destroy();
  return { reads, text, pacer };
}

const expected = (count: number) => Array.from({ length: count }, (_, i) => `line ${i}\n`).join('');

describe('paceReads', () => {
  let server: Awaited<ReturnType<typeof trickle>> | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('reads a trickling stream in beats, losing and reordering nothing', async () => {
    // 100 writes over ~400 ms: read as they land that is ~100 reads; in 100 ms beats, a handful.
    server = await trickle(100, 4);
    const paced = await readAll(server.port, 100);
    expect(paced.text).toBe(expected(100));
    expect(paced.reads).toBeLessThanOrEqual(12);
    expect(paced.pacer.parked).toBe(false);
  });

  it('reads as data lands when the interval is 0', async () => {
    server = await trickle(60, 4);
    const unpaced = await readAll(server.port, 0);
    expect(unpaced.text).toBe(expected(60));
    expect(unpaced.reads).toBeGreaterThan(20);
  });

  it('release() resumes reading at once and the next data paces again', async () => {
    server = await trickle(80, 4);
    let releasedAt = -1;
    const result = await readAll(server.port, 1_000, (pacer, reads) => {
      // Parked after the first read for a whole second; release it from outside half-way through that wait.
      if (reads === 1) {
        setTimeout(() => {
          expect(pacer.parked).toBe(true);
          releasedAt = reads;
          pacer.release();
          expect(pacer.parked).toBe(false);
        }, 100);
      }
    });
    expect(releasedAt).toBe(1);
    expect(result.text).toBe(expected(80));
    // After the release: one read of what waited, then parked again for a second while the rest (~200 ms) arrives.
    expect(result.reads).toBeLessThanOrEqual(4);
  });

  it('leaves a socket it cannot pace alone', () => {
    const pacer = paceReads(undefined, 50);
    pacer.afterData();
    expect(pacer.parked).toBe(false);
  });
});
