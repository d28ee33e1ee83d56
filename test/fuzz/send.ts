import http from 'node:http';

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * One request over node:http (no client-side cleverness: the bytes are sent as given). A recorder that refuses a
 * body may close the connection while the rest is still being sent; the answer it sent first is what counts.
 */
export function send(url: string, options: { method?: string; headers?: Readonly<Record<string, string>>; body: Buffer | string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = typeof options.body === 'string' ? Buffer.from(options.body) : options.body;
    let answered = false;
    const request = http.request(url, { method: options.method ?? 'POST', headers: { 'Content-Length': String(body.length), ...options.headers }, agent: false }, (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          parsed = { text };
        }
        resolve({ status: response.statusCode ?? 0, body: parsed });
      });
    });
    request.on('error', (error) => {
      // EPIPE/ECONNRESET: the recorder answered and stopped reading a body it refused. The answer may still be on its
      // way through the socket's read side: give it a moment before calling it no answer.
      if (!answered) setTimeout(() => (answered ? undefined : reject(error)), 1_000);
    });
    request.end(body);
  });
}
