import http from 'node:http';
import { paceReads } from '../recorder/read-pacer.js';

/**
 * The CPU floor under the recorder (issue 15): a process that only reads the same watch stream with the same read
 * pacing and `JSON.parse`s each line, and does nothing else. `recorder.bench.ts` runs it next to the recorder against
 * the same fake API server, so `recorder.cpu_vs_floor` compares the two in one run on one machine.
 *
 * argv: the watch URL, the read interval in ms (the recorder's `watch.readInterval`). Prints the number of events it
 * parsed when it is sent SIGTERM.
 */
const [url, interval] = process.argv.slice(2);
if (!url) throw new Error('usage: watch-floor.ts URL [readIntervalMs]');
const readIntervalMs = Number(interval ?? 50);
let events = 0;
const agent = new http.Agent({ keepAlive: true });
const request = http.get(url, { agent, headers: { Authorization: 'Bearer bench-token' } }, (response) => {
  const pacer = paceReads(response.socket, readIntervalMs);
  let rest: Buffer | undefined;
  response.on('data', (chunk: Buffer) => {
    pacer.afterData();
    let data = rest ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let end = data.indexOf(10, start); end !== -1; end = data.indexOf(10, start)) {
      const parsed = JSON.parse(data.toString('utf8', start, end)) as { type?: string };
      if (parsed.type) events += 1;
      start = end + 1;
    }
    rest = start < data.length ? data.subarray(start) : undefined;
    data = Buffer.alloc(0);
  });
});
request.on('error', (error) => {
  console.error(`watch-floor: ${error.message}`);
  process.exit(1);
});
process.on('SIGTERM', () => {
  process.stdout.write(`${events}\n`);
  process.exit(0);
});
