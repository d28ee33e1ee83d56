import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * Finds credentials the way kubectl does (k8s.io/client-go/tools/clientcmd loader.go): --kubeconfig, else
 * $KUBECONFIG (a list of files merged: the first file to define a name wins, and the first current-context), else
 * ~/.kube/config, else the pod's service account (in-cluster); then --context.
 *
 * Why not @kubernetes/client-node's KubeConfig: importing it loads the whole generated API client, ~58 MB of RSS,
 * more than half of the recorder's memory budget as a sidecar. This covers what clusters use today: bearer tokens,
 * token files (re-read every minute, like client-go, for rotated service-account tokens), client certificates,
 * basic auth, impersonation, and exec credential plugins (client.authentication.k8s.io: EKS, GKE, AKS, OIDC
 * kubelogin). The legacy in-tree auth-provider plugins (removed from kubectl in 1.26) are refused with a hint.
 */

const NamedCluster = z.looseObject({
  name: z.string().min(1),
  cluster: z.looseObject({
    server: z.string().min(1),
    'certificate-authority': z.string().optional(),
    'certificate-authority-data': z.string().optional(),
    'insecure-skip-tls-verify': z.boolean().optional(),
    'tls-server-name': z.string().optional(),
    'proxy-url': z.string().optional(),
  }),
});

const ExecConfig = z.looseObject({
  command: z.string().min(1),
  args: z.array(z.string()).nullable().optional(),
  env: z.array(z.object({ name: z.string(), value: z.string() })).nullable().optional(),
  apiVersion: z.string().optional(),
  installHint: z.string().optional(),
  provideClusterInfo: z.boolean().optional(),
});

const NamedUser = z.looseObject({
  name: z.string().min(1),
  user: z
    .looseObject({
      token: z.string().optional(),
      tokenFile: z.string().optional(),
      'client-certificate': z.string().optional(),
      'client-certificate-data': z.string().optional(),
      'client-key': z.string().optional(),
      'client-key-data': z.string().optional(),
      username: z.string().optional(),
      password: z.string().optional(),
      as: z.string().optional(),
      'as-groups': z.array(z.string()).nullable().optional(),
      exec: ExecConfig.optional(),
      'auth-provider': z.looseObject({ name: z.string() }).optional(),
    })
    .nullable()
    .default({}),
});

const NamedContext = z.looseObject({
  name: z.string().min(1),
  context: z.looseObject({ cluster: z.string().min(1), user: z.string().optional(), namespace: z.string().optional() }),
});

const KubeconfigFile = z.looseObject({
  clusters: z.array(NamedCluster).nullable().default([]),
  users: z.array(NamedUser).nullable().default([]),
  contexts: z.array(NamedContext).nullable().default([]),
  'current-context': z.string().optional(),
});

export interface ClusterConfig {
  readonly server: string;
  readonly ca?: Buffer | undefined;
  readonly insecureSkipTlsVerify: boolean;
  readonly tlsServerName?: string | undefined;
  readonly proxyUrl?: string | undefined;
}

export interface ExecCredentialConfig {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly apiVersion: string;
  readonly installHint?: string | undefined;
}

export interface UserConfig {
  readonly token?: string | undefined;
  readonly tokenFile?: string | undefined;
  readonly clientCert?: Buffer | undefined;
  readonly clientKey?: Buffer | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** Impersonate-User (`as`); `as-groups` is not supported. */
  readonly impersonate?: string | undefined;
  readonly exec?: ExecCredentialConfig | undefined;
}

/** One context, resolved: where to connect and as whom. */
export interface ResolvedKubeConfig {
  readonly contextName: string;
  readonly namespace?: string | undefined;
  readonly cluster: ClusterConfig;
  readonly user: UserConfig;
  /** Where the credentials came from, for the log. */
  readonly source: string;
}

export class KubeConfigError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'KubeConfigError';
  }
}

const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

type ParsedFile = z.infer<typeof KubeconfigFile> & { dir: string; path: string };

function readKubeconfig(path: string): ParsedFile {
  if (!existsSync(path)) throw new KubeConfigError(`kubeconfig ${path} does not exist`);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new KubeConfigError(`cannot read kubeconfig ${path}: ${(error as Error).message.split('\n')[0]}`);
  }
  const parsed = KubeconfigFile.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new KubeConfigError(`kubeconfig ${path}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return { ...parsed.data, dir: dirname(path), path };
}

/** Relative paths in a kubeconfig are relative to the file that holds them (clientcmd ResolvePaths). */
function resolvePath(dir: string, file: string): string {
  return isAbsolute(file) ? file : join(dir, file);
}

function readFile(dir: string, file: string, what: string): Buffer {
  const path = resolvePath(dir, file);
  try {
    return readFileSync(path);
  } catch (error) {
    throw new KubeConfigError(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

function dataOrFile(dir: string, data: string | undefined, file: string | undefined, what: string): Buffer | undefined {
  if (data) return Buffer.from(data, 'base64');
  if (file) return readFile(dir, file, what);
  return undefined;
}

/** Merges kubeconfig files with kubectl's rule: the first definition of a name wins, and the first current-context. */
function merge(files: readonly ParsedFile[]) {
  const clusters = new Map<string, { entry: z.infer<typeof NamedCluster>; dir: string }>();
  const users = new Map<string, { entry: z.infer<typeof NamedUser>; dir: string }>();
  const contexts = new Map<string, z.infer<typeof NamedContext>>();
  let current: string | undefined;
  for (const file of files) {
    for (const entry of file.clusters ?? []) if (!clusters.has(entry.name)) clusters.set(entry.name, { entry, dir: file.dir });
    for (const entry of file.users ?? []) if (!users.has(entry.name)) users.set(entry.name, { entry, dir: file.dir });
    for (const entry of file.contexts ?? []) if (!contexts.has(entry.name)) contexts.set(entry.name, entry);
    current ||= file['current-context'] || undefined;
  }
  return { clusters, users, contexts, current };
}

export function loadKubeConfig(options: { kubeconfig?: string | undefined; context?: string | undefined; env: NodeJS.ProcessEnv; serviceAccountDir?: string }): ResolvedKubeConfig {
  let files: string[] = [];
  let source: string;
  const home = join(options.env['HOME'] ?? homedir(), '.kube', 'config');
  if (options.kubeconfig) {
    files = [options.kubeconfig];
    source = options.kubeconfig;
  } else if (options.env['KUBECONFIG']) {
    files = options.env['KUBECONFIG'].split(delimiter).filter(Boolean);
    // clientcmd skips files of the list that do not exist.
    files = files.filter((file) => existsSync(file));
    source = `$KUBECONFIG (${files.join(delimiter)})`;
  } else if (existsSync(home)) {
    files = [home];
    source = home;
  } else {
    return inCluster(options.env, options.serviceAccountDir ?? serviceAccountDir, options.context);
  }
  if (files.length === 0) throw new KubeConfigError(`none of the files in $KUBECONFIG exists`);
  const { clusters, users, contexts, current } = merge(files.map(readKubeconfig));
  const contextName = options.context ?? current;
  if (!contextName) throw new KubeConfigError(`${source} has no current-context`, `Pass --context; contexts there: ${[...contexts.keys()].join(', ') || '(none)'}`);
  const context = contexts.get(contextName);
  if (!context) throw new KubeConfigError(`context "${contextName}" is not in ${source}`, `Contexts there: ${[...contexts.keys()].join(', ') || '(none)'}`);
  const cluster = clusters.get(context.context.cluster);
  if (!cluster) throw new KubeConfigError(`context "${contextName}" names cluster "${context.context.cluster}", which is not in ${source}`);
  const user = context.context.user ? users.get(context.context.user) : undefined;
  if (context.context.user && !user) throw new KubeConfigError(`context "${contextName}" names user "${context.context.user}", which is not in ${source}`);
  const c = cluster.entry.cluster;
  const u = user?.entry.user ?? {};
  if (u['auth-provider']) {
    throw new KubeConfigError(
      `user "${user!.entry.name}" uses the auth-provider "${u['auth-provider'].name}" plugin, which kubectl removed in 1.26`,
      'Use an exec credential plugin instead (gke-gcloud-auth-plugin, kubelogin, aws eks get-token), as kubectl does.',
    );
  }
  const userDir = user?.dir ?? '.';
  return {
    contextName,
    namespace: context.context.namespace,
    source,
    cluster: {
      server: c.server,
      ca: dataOrFile(cluster.dir, c['certificate-authority-data'], c['certificate-authority'], 'certificate-authority'),
      insecureSkipTlsVerify: c['insecure-skip-tls-verify'] ?? false,
      tlsServerName: c['tls-server-name'],
      proxyUrl: c['proxy-url'],
    },
    user: {
      token: u.token,
      tokenFile: u.tokenFile ? resolvePath(userDir, u.tokenFile) : undefined,
      clientCert: dataOrFile(userDir, u['client-certificate-data'], u['client-certificate'], 'client-certificate'),
      clientKey: dataOrFile(userDir, u['client-key-data'], u['client-key'], 'client-key'),
      username: u.username,
      password: u.password,
      impersonate: u.as,
      exec: u.exec
        ? {
            // A relative command with a path separator is relative to the kubeconfig; a bare name is looked up on PATH.
            command: u.exec.command.includes('/') ? resolvePath(userDir, u.exec.command) : u.exec.command,
            args: u.exec.args ?? [],
            env: Object.fromEntries((u.exec.env ?? []).map((e) => [e.name, e.value])),
            apiVersion: u.exec.apiVersion ?? 'client.authentication.k8s.io/v1',
            installHint: u.exec.installHint,
          }
        : undefined,
    },
  };
}

/** The pod's service account (client-go rest.InClusterConfig): the token file is re-read as it rotates. */
function inCluster(env: NodeJS.ProcessEnv, dir: string, context: string | undefined): ResolvedKubeConfig {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port || !existsSync(join(dir, 'token'))) {
    throw new KubeConfigError(
      'no Kubernetes credentials found',
      'Pass --kubeconfig FILE, set KUBECONFIG, create ~/.kube/config, or run in a pod with a service account.',
    );
  }
  if (context) throw new KubeConfigError(`--context ${context}: there is no kubeconfig, only the in-cluster service account`);
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    contextName: 'in-cluster',
    namespace: existsSync(join(dir, 'namespace')) ? readFileSync(join(dir, 'namespace'), 'utf8').trim() : undefined,
    source: 'in-cluster service account',
    cluster: { server: `https://${hostPart}:${port}`, ca: readFile(dir, 'ca.crt', 'the service account CA'), insecureSkipTlsVerify: false },
    user: { tokenFile: join(dir, 'token') },
  };
}

// ---- credentials at request time ------------------------------------------------------------------------------

const ExecCredential = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.literal('ExecCredential').optional(),
  status: z
    .looseObject({
      token: z.string().optional(),
      clientCertificateData: z.string().optional(),
      clientKeyData: z.string().optional(),
      expirationTimestamp: z.string().optional(),
    })
    .optional(),
});

export interface Credentials {
  /** Headers for the next request (re-reads token files, re-runs an expired exec plugin). */
  headers(): Promise<Record<string, string>>;
  /** Client certificate and key for the TLS connection, if any (from the kubeconfig or the exec plugin). */
  tls(): Promise<{ cert?: Buffer; key?: Buffer }>;
}

const TOKEN_FILE_REFRESH_MS = 60_000;

export function credentialsFor(config: ResolvedKubeConfig, now: () => number = Date.now): Credentials {
  const { user } = config;
  let fileToken: { value: string; readAt: number } | undefined;
  let exec: Promise<{ token?: string; cert?: Buffer; key?: Buffer; expiresAt: number }> | undefined;

  const runExec = () => {
    const spec = user.exec!;
    return new Promise<{ token?: string; cert?: Buffer; key?: Buffer; expiresAt: number }>((resolve, reject) => {
      // KUBERNETES_EXEC_INFO tells the plugin which API version to answer in (client-go exec.go).
      const execInfo = JSON.stringify({ apiVersion: spec.apiVersion, kind: 'ExecCredential', spec: { interactive: false } });
      execFile(spec.command, [...spec.args], { env: { ...process.env, ...spec.env, KUBERNETES_EXEC_INFO: execInfo }, timeout: 60_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
        if (error) {
          const hint = spec.installHint ? ` (${spec.installHint.trim()})` : '';
          reject(new KubeConfigError(`exec credential plugin ${spec.command} failed: ${error.message}${stderr ? `: ${stderr.trim().slice(0, 300)}` : ''}${hint}`));
          return;
        }
        let parsed;
        try {
          parsed = ExecCredential.parse(JSON.parse(stdout));
        } catch (parseError) {
          reject(new KubeConfigError(`exec credential plugin ${spec.command} printed something that is not an ExecCredential: ${(parseError as Error).message.slice(0, 200)}`));
          return;
        }
        const status = parsed.status ?? {};
        const expiry = status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : Number.POSITIVE_INFINITY;
        resolve({
          ...(status.token ? { token: status.token } : {}),
          ...(status.clientCertificateData ? { cert: Buffer.from(status.clientCertificateData) } : {}),
          ...(status.clientKeyData ? { key: Buffer.from(status.clientKeyData) } : {}),
          // Refresh a little before the plugin says it expires.
          expiresAt: expiry - 30_000,
        });
      });
    });
  };
  const execCredential = async () => {
    const current = exec ? await exec.catch(() => undefined) : undefined;
    if (!current || current.expiresAt <= now()) {
      exec = runExec();
      return exec;
    }
    return current;
  };

  return {
    async headers() {
      const headers: Record<string, string> = {};
      let token = user.token;
      if (user.tokenFile) {
        if (!fileToken || now() - fileToken.readAt > TOKEN_FILE_REFRESH_MS) {
          try {
            fileToken = { value: readFileSync(user.tokenFile, 'utf8').trim(), readAt: now() };
          } catch (error) {
            if (!fileToken) throw new KubeConfigError(`cannot read the token file ${user.tokenFile}: ${(error as Error).message}`);
            // Keep the last good token; the file may be mid-rotation.
          }
        }
        token = fileToken.value;
      }
      if (user.exec) token = (await execCredential()).token ?? token;
      if (token) headers['Authorization'] = `Bearer ${token}`;
      else if (user.username !== undefined) headers['Authorization'] = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
      if (user.impersonate) headers['Impersonate-User'] = user.impersonate;
      return headers;
    },
    async tls() {
      if (user.clientCert && user.clientKey) return { cert: user.clientCert, key: user.clientKey };
      if (user.exec) {
        const credential = await execCredential();
        if (credential.cert && credential.key) return { cert: credential.cert, key: credential.key };
      }
      return {};
    },
  };
}
