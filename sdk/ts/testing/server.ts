import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server standing in for the recorder in the SDK's int tests. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly lines: string[];
  status: number;
}

export type Respond = (request: SeenRequest, n: number, res: http.ServerResponse) => { status: number; body?: unknown; headers?: Record<string, string> } | 'hang';

export interface TestServer {
  readonly url: string;
  readonly requests: SeenRequest[];
  /** Parsed lines of the requests answered 2xx. */
  accepted(): unknown[];
  close(): Promise<void>;
}

export async function startTestServer(respond: Respond = () => ({ status: 202 }), port = 0): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const seen: SeenRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        lines: text.split('\n').filter((line) => line.trim() !== ''),
        status: 0,
      };
      requests.push(seen);
      const answer = respond(seen, requests.length, res);
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      seen.status = answer.status;
      const body = JSON.stringify(answer.body ?? (answer.status < 300 ? { accepted: seen.lines.length } : { error: `status ${answer.status}` }));
      res.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    accepted: () => requests.filter((r) => r.status >= 200 && r.status < 300).flatMap((r) => r.lines.map((line) => JSON.parse(line) as unknown)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function waitUntil(probe: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
