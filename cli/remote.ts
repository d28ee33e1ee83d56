import { readFileSync } from 'node:fs';
import { UserError } from './errors.js';

/**
 * A running recorder's read endpoints, from the workstation (recorder/read-routes.ts): usually through
 * `kubectl port-forward deploy/<controller> 8090`, with the recorder's bearer token.
 */
export interface RemoteRecorder {
  readonly base: string;
  readonly token: string | undefined;
}

/** --token-file, else $KREPLAY_INGEST_TOKEN (the recorder's own variable), else none (a loopback-only recorder). */
export function remoteRecorder(url: string, tokenFile: string | undefined, env: NodeJS.ProcessEnv): RemoteRecorder {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new UserError(`"${url}" is not a URL`, 'Give the recorder\'s address, e.g. http://127.0.0.1:8090 after kubectl port-forward deploy/<controller> 8090.');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new UserError(`"${url}" is not an http(s) URL`);
  let token: string | undefined;
  if (tokenFile) {
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch (error) {
      throw new UserError(`cannot read --token-file ${tokenFile}: ${(error as Error).message}`);
    }
  } else token = env['KREPLAY_INGEST_TOKEN'] || undefined;
  return { base: base.href.replace(/\/+$/, ''), token };
}

/** GET a path of the recorder; a refusal becomes a UserError with the recorder's own words. */
export async function remoteGet(remote: RemoteRecorder, path: string, init: { signal?: AbortSignal } = {}): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(`${remote.base}${path}`, { headers: remote.token ? { Authorization: `Bearer ${remote.token}` } : {}, ...init });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    throw new UserError(`cannot reach the recorder at ${remote.base}: ${cause}`, 'Is the port-forward running? kubectl port-forward deploy/<controller> 8090');
  }
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // not JSON: the text is the message
    }
    const hint =
      response.status === 401 ? 'Pass the recorder\'s bearer token with --token-file (or $KREPLAY_INGEST_TOKEN).' : response.status === 403 ? 'Configure a token on the recorder (server.tokenFile) and pass it with --token-file.' : undefined;
    throw new UserError(`the recorder at ${remote.base} answered ${response.status} to GET ${path}: ${message.slice(0, 500)}`, hint);
  }
  return response;
}
