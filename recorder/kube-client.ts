import http from 'node:http';
import https from 'node:https';
import { credentialsFor, type ResolvedKubeConfig } from './kubeconfig.js';

/**
 * Plain HTTP(S) to the API server through the kubeconfig's credentials, with ONE keep-alive agent for every request
 * of the process. client-node 1.4's Watch/ListWatch create an agent per request (leaking descriptors), overwrite the
 * request's timeout signal and swallow bad lines (client-node src/watch.ts and src/cache.ts), so the recorder owns this layer
 * (and its kubeconfig loading, kubeconfig.ts: importing client-node alone costs ~58 MB of RSS).
 */

/** What a failed request tells the caller: status (0 for transport errors), the Status body when there is one. */
export class KubeHttpError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly reason: string | undefined,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(`${method} ${path}: ${status ? `HTTP ${status}${reason ? ` ${reason}` : ''}: ` : ''}${message}`);
    this.name = 'KubeHttpError';
  }
}

export interface KubeConnection {
  readonly server: URL;
  /** Headers for one request: called per request so rotated tokens (service account, exec plugins) are picked up. */
  headers(): Promise<Record<string, string>>;
  readonly agent: http.Agent;
  readonly description: string;
}

/**
 * Builds the connection once: CA and client certificate go into the one shared agent; the Authorization header is
 * computed per request. (Client certificates from an exec plugin are read once, at start: rotating them needs a
 * restart.)
 */
export async function connectionFromConfig(config: ResolvedKubeConfig): Promise<KubeConnection> {
  const server = new URL(config.cluster.server);
  if (config.cluster.proxyUrl) {
    throw new Error(`the kubeconfig's cluster uses proxy-url ${config.cluster.proxyUrl}; the recorder connects directly and does not support proxies yet`);
  }
  const credentials = credentialsFor(config);
  const tls = await credentials.tls();
  const agentOptions = {
    keepAlive: true,
    keepAliveMsecs: 30_000,
    // Watches hold a socket each; lists and discovery share what is left.
    maxFreeSockets: 4,
    scheduling: 'lifo' as const,
  };
  const agent =
    server.protocol === 'http:'
      ? new http.Agent(agentOptions)
      : new https.Agent({
          ...agentOptions,
          ...(config.cluster.ca ? { ca: config.cluster.ca } : {}),
          ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
          ...(config.cluster.insecureSkipTlsVerify ? { rejectUnauthorized: false } : {}),
          ...(config.cluster.tlsServerName ? { servername: config.cluster.tlsServerName } : {}),
        });
  return {
    server,
    agent,
    description: `${server.origin} (context ${config.contextName})`,
    headers: () => credentials.headers(),
  };
}

export interface RequestOptions {
  readonly signal?: AbortSignal;
  /** Whole-request deadline for non-streaming requests. */
  readonly timeoutMs?: number;
}

export interface JsonResponse {
  readonly status: number;
  readonly body: unknown;
}

/** The recorder's User-Agent: the audit receiver leaves the recorder's own requests out by it. */
export const recorderUserAgent = 'kreplay-recorder';

export class KubeClient {
  constructor(
    private readonly connection: KubeConnection,
    private readonly userAgent = `${recorderUserAgent}/dev`,
  ) {}

  get server(): URL {
    return this.connection.server;
  }

  private async requestOptions(method: string, path: string): Promise<http.RequestOptions> {
    const { server } = this.connection;
    return {
      method,
      protocol: server.protocol,
      hostname: server.hostname.replace(/^\[|\]$/g, ''),
      port: server.port || (server.protocol === 'https:' ? 443 : 80),
      // A server URL may carry a path prefix (e.g. behind a proxy); keep it.
      path: `${server.pathname.replace(/\/$/, '')}${path}`,
      agent: this.connection.agent,
      headers: { Accept: 'application/json', 'User-Agent': this.userAgent, ...(await this.connection.headers()) },
    };
  }

  private send(options: http.RequestOptions, signal?: AbortSignal): Promise<{ req: http.ClientRequest; res: http.IncomingMessage }> {
    return new Promise((resolve, reject) => {
      const transport = options.protocol === 'http:' ? http : https;
      const req = transport.request({ ...options, signal }, (res) => resolve({ req, res }));
      req.on('error', reject);
      req.end();
    });
  }

  /** GET with a JSON answer. Any HTTP status resolves; transport errors and the deadline reject. */
  async getJson(path: string, options: RequestOptions = {}): Promise<JsonResponse> {
    const controller = new AbortController();
    const onAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(new Error(`no answer in ${options.timeoutMs ?? 60_000} ms`)), options.timeoutMs ?? 60_000);
    try {
      const { res } = await this.send(await this.requestOptions('GET', path), controller.signal);
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // Not JSON (a proxy's error page): keep the text for the error message.
      }
      if (res.statusCode !== undefined && res.statusCode >= 400) throw errorFromResponse('GET', path, res, body);
      return { status: res.statusCode ?? 0, body };
    } catch (error) {
      throw asKubeError('GET', path, error, controller.signal);
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Opens a streaming GET (a watch). Resolves with the response once the server answered 200; a non-200 answer
   * rejects with its Status. The caller reads the body and aborts the signal to close it.
   */
  async openStream(path: string, signal: AbortSignal): Promise<http.IncomingMessage> {
    try {
      const { res } = await this.send(await this.requestOptions('GET', path), signal);
      if (res.statusCode === 200) return res;
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // keep text
      }
      throw errorFromResponse('GET', path, res, body);
    } catch (error) {
      throw asKubeError('GET', path, error, signal);
    }
  }

  close(): void {
    this.connection.agent.destroy();
  }
}

function errorFromResponse(method: string, path: string, res: http.IncomingMessage, body: unknown): KubeHttpError {
  const status = res.statusCode ?? 0;
  const retryAfter = Number(res.headers['retry-after']);
  const statusBody = body && typeof body === 'object' ? (body as { reason?: string; message?: string }) : undefined;
  const message = statusBody?.message ?? (typeof body === 'string' && body ? body.slice(0, 300) : res.statusMessage ?? 'request failed');
  return new KubeHttpError(method, path, status, statusBody?.reason, message, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined);
}

function asKubeError(method: string, path: string, error: unknown, signal?: AbortSignal): Error {
  if (error instanceof KubeHttpError) return error;
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    return new KubeHttpError(method, path, 0, 'Aborted', reason instanceof Error ? reason.message : 'aborted');
  }
  const err = error as NodeJS.ErrnoException;
  return new KubeHttpError(method, path, 0, err.code, err.message ?? String(error));
}

// ---- paths and discovery ------------------------------------------------------------------------------------

export interface ResourceTarget {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

export function groupVersionPath(target: Pick<ResourceTarget, 'group' | 'version'>): string {
  return target.group === '' ? `/api/${target.version}` : `/apis/${target.group}/${target.version}`;
}

export function collectionPath(target: ResourceTarget, namespace: string | null): string {
  const ns = namespace === null ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${groupVersionPath(target)}${ns}/${target.resource}`;
}

export interface DiscoveredResource {
  readonly kind: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
}

/**
 * Looks the resource up in its group-version's APIResourceList (GET /api/v1 or /apis/<group>/<version>). Returns
 * undefined when the group-version or the resource is not served (yet): a CRD that has not been created.
 */
export async function discover(client: KubeClient, target: ResourceTarget, options: RequestOptions = {}): Promise<DiscoveredResource | undefined> {
  let response: JsonResponse;
  try {
    response = await client.getJson(groupVersionPath(target), { timeoutMs: 30_000, ...options });
  } catch (error) {
    if (error instanceof KubeHttpError && (error.status === 404 || error.status === 503)) return undefined;
    throw error;
  }
  const list = response.body as { resources?: { name?: string; kind?: string; namespaced?: boolean; verbs?: string[] }[] } | undefined;
  const found = list?.resources?.find((r) => r.name === target.resource);
  if (!found?.kind) return undefined;
  return { kind: found.kind, namespaced: found.namespaced === true, verbs: found.verbs ?? [] };
}
