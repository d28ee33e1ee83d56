import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SessionName, defaultSessionName } from '../../model/index.js';
import { ConfigError, loadConfigFile, parseConfig, parseDuration, parseSize, type RecorderConfig, type ResourceSpec } from '../../recorder/config.js';
import { KubeClient, connectionFromConfig, recorderUserAgent, type KubeConnection } from '../../recorder/kube-client.js';
import { fetchCatalog, resolveResourceName, type ResolvedResource } from '../../recorder/resource-names.js';
import { parseListen } from '../../recorder/ingest-server.js';
import { KubeConfigError, loadKubeConfig, type ResolvedKubeConfig } from '../../recorder/kubeconfig.js';
import { createLogger, type Logger } from '../../recorder/log.js';
import { Recorder, RecorderStartError, type RecorderSummary } from '../../recorder/recorder.js';
import { APPENDER_CACHE_KIB } from '../../store/appender-cache.js';
import type { CliContext } from '../context.js';
import { checkAnalysis, checkAnalysisInWorker, exportReports } from '../live-analysis.js';
import { ExitCode, UserError } from '../errors.js';

/**
 * The page size of a database the recorder creates. It commits ten times a second, and each commit rewrites the last,
 * part-filled page of each table and index it appends to: per event stored (~190 bytes), 4 KiB pages wrote ~930 bytes
 * of WAL, 1 KiB ~420 and 512 bytes ~340, checkpoints not counted (docs/recorder.md, Performance).
 */
const RECORDER_PAGE_SIZE = 512;
import { toolVersion } from '../version.js';

interface RecordOptions {
  config?: string;
  allNamespaces?: boolean;
  controllerName?: string;
  controllerUsername?: string;
  controllerServiceAccount?: string;
  session?: string;
  kubeconfig?: string;
  context?: string;
  listen?: string;
  token?: string;
  tokenFile?: string;
  namespace?: string[];
  flushInterval?: string;
  batchSize?: string;
  maxAge?: string;
  maxSize?: string;
  logLevel?: string;
  drainTimeout?: string;
  /** --no-detect: commander's negation of `detect`. */
  detect?: boolean;
  detectWorker?: boolean;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Flags override the file; each is checked with the same rules as the file. */
export function applyOverrides(config: RecorderConfig, options: RecordOptions): RecorderConfig {
  const next: RecorderConfig = structuredClone(config);
  if (options.listen) {
    try {
      parseListen(options.listen);
    } catch (error) {
      throw new UserError(`--listen: ${(error as Error).message}`);
    }
    next.server.listen = options.listen;
  }
  if (options.namespace?.length) next.resources = next.resources.map((r) => ({ ...r, namespaces: [...new Set(options.namespace)] }));
  if (options.controllerName) next.controller = { ...next.controller, name: options.controllerName };
  if (options.controllerUsername) next.controller = { ...next.controller, username: options.controllerUsername };
  if (options.controllerServiceAccount) {
    const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([^/\s]+)$/.exec(options.controllerServiceAccount);
    if (!match) throw new UserError(`--controller-service-account must be NAMESPACE/NAME (e.g. ops/web-operator), got "${options.controllerServiceAccount}"`);
    next.controller = { ...next.controller, serviceAccount: { namespace: match[1]!, name: match[3]! } };
  }
  if (options.flushInterval) {
    const ms = parseDuration(options.flushInterval);
    if (ms === undefined || ms <= 0 || ms > 250) throw new UserError(`--flush-interval must be a duration above 0 and at most 250ms, got "${options.flushInterval}"`);
    next.writer.flushInterval = ms;
  }
  if (options.batchSize) {
    const n = Number(options.batchSize);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new UserError(`--batch-size must be a whole number from 1 to 10000, got "${options.batchSize}"`);
    next.writer.batchSize = n;
  }
  if (options.maxAge) {
    const ms = parseDuration(options.maxAge);
    if (ms === undefined || ms <= 0) throw new UserError(`--max-age must be a duration such as 12h or 7d, got "${options.maxAge}"`);
    next.retention.maxAge = ms;
  }
  if (options.maxSize) {
    const bytes = parseSize(options.maxSize);
    if (bytes === undefined || bytes <= 0) throw new UserError(`--max-size must be a size such as 512Mi or 2Gi, got "${options.maxSize}"`);
    next.retention.maxSize = bytes;
  }
  if (options.logLevel) {
    if (!['debug', 'info', 'warn', 'error'].includes(options.logLevel)) throw new UserError(`--log-level must be debug, info, warn or error, got "${options.logLevel}"`);
    next.logLevel = options.logLevel as RecorderConfig['logLevel'];
  }
  return next;
}

/**
 * --token, else --token-file, else $KREPLAY_INGEST_TOKEN (the name the SDKs send with, so one Secret can feed both
 * containers), else the older $KREPLAY_RECORDER_TOKEN, else the config's token or tokenFile.
 */
function resolveToken(config: RecorderConfig, options: RecordOptions, env: NodeJS.ProcessEnv): string | undefined {
  const fromFile = (file: string, what: string) => {
    try {
      const token = readFileSync(file, 'utf8').trim();
      if (token.length < 16) throw new UserError(`${what} ${file} holds a token shorter than 16 characters`);
      return token;
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(`cannot read ${what} ${file}: ${(error as Error).message}`);
    }
  };
  if (options.token) {
    if (options.token.length < 16) throw new UserError('--token must be at least 16 characters');
    return options.token;
  }
  if (options.tokenFile) return fromFile(options.tokenFile, '--token-file');
  if (env['KREPLAY_INGEST_TOKEN']) return env['KREPLAY_INGEST_TOKEN'];
  if (env['KREPLAY_RECORDER_TOKEN']) return env['KREPLAY_RECORDER_TOKEN'];
  if (config.server.token) return config.server.token;
  if (config.server.tokenFile) return fromFile(config.server.tokenFile, 'server.tokenFile');
  return undefined;
}

export function formatSummary(summary: RecorderSummary): string {
  const lines = [
    `kreplay record: session ${summary.session}${summary.segments > 1 ? ` (${summary.segments} segments)` : ''}: ${summary.committed} record(s) committed this run, last seq ${summary.lastSeq}`,
  ];
  for (const w of summary.watches) {
    lines.push(
      `  ${w.resource.padEnd(40)} ${String(w.events).padStart(7)} event(s)  ${w.lists} list(s)  ${w.relists} relist(s)  ${w.gone} 410(s)  ${w.tombstones} tombstone(s)  ${w.errors} error(s)  [${w.phase}]`,
    );
  }
  const dropped = Object.entries(summary.dropped).filter(([, n]) => n > 0);
  if (dropped.length) lines.push(`  DROPPED (queue full): ${dropped.map(([source, n]) => `${n} ${source}`).join(', ')}; the session is marked partial`);
  return `${lines.join('\n')}\n`;
}

export function registerRecord(program: Command, context: CliContext): void {
  program
    .command('record')
    .description('record a live cluster (watches, controller reports, audit webhook) into a session until SIGTERM/SIGINT')
    .argument('[resources...]', "what to watch, as kubectl names it: deployments, deploy, cm, deployments.apps, foos.samplecontroller.k8s.io (replaces the config's resources)")
    .option('-c, --config <file>', 'recorder configuration (YAML or JSON; see deploy/recorder.yaml); needed unless resources are named')
    .option('-s, --session <name>', 'session name: a new name starts a session, an existing one resumes it with a gap marker (default: record-<time>)')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then the in-cluster service account)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('--listen <addr>', 'host:port for ingest, audit webhook, health and metrics (overrides server.listen)')
    .option('--token <token>', 'bearer token required on /v1/records and /v1/audit (prefer --token-file or $KREPLAY_INGEST_TOKEN)')
    .option('--token-file <file>', 'file holding the bearer token')
    .option('-n, --namespace <ns>', 'record only this namespace (repeatable; overrides the config; named resources default to the kubeconfig context\'s namespace, as kubectl)', collect)
    .option('-A, --all-namespaces', 'named resources: every namespace')
    .option('--controller-name <name>', 'the controller under study: a display name (controller.name)')
    .option('--controller-username <user>', 'the user it authenticates as, e.g. system:serviceaccount:ops:web-operator (controller.username)')
    .option('--controller-service-account <ns/name>', 'its service account, e.g. ops/web-operator (controller.serviceAccount)')
    .option('--flush-interval <duration>', 'longest wait before a batch is committed (≤ 250ms)')
    .option('--batch-size <n>', 'most records per transaction')
    .option('--max-age <duration>', 'retention: delete recorder sessions older than this (e.g. 7d)')
    .option('--max-size <size>', 'retention: keep the database under this size (e.g. 2Gi)')
    .option('--log-level <level>', 'debug, info, warn or error')
    .option('--drain-timeout <duration>', 'on SIGTERM, give up draining after this long', '20s')
    .option('--no-detect', "do not run the detectors while recording (GET /v1/findings answers 404; the config's check: section is unused)")
    .option('--detect-worker', "run the detectors in a worker thread on its own connection: the recorder's thread never runs one, for a second heap (~35 MB)")
    .addHelpText(
      'after',
      `
Like kubectl, without a config file:
  kreplay record deployments foos.samplecontroller.k8s.io -n shop --controller-service-account shop/sample-controller
Names are resolved through discovery (plural, singular, short name, kind; resource.group or resource.version.group);
a name the API server does not serve fails at once with the closest one it does. Without -n or -A named resources
are recorded in the kubeconfig context's namespace (default: "default"). --config still sets everything else (and
is what the sidecar uses); named resources replace its resources.`,
    )
    .action(async (resourceArgs: string[], options: RecordOptions) => {
      if (!options.config && resourceArgs.length === 0) {
        throw new UserError('name the resources to record or give --config', 'Example: kreplay record deployments foos.samplecontroller.k8s.io -n shop (or kreplay record --config kreplay.yaml; see deploy/recorder.yaml)');
      }
      if (options.allNamespaces && options.namespace?.length) throw new UserError('-A (--all-namespaces) and -n (--namespace) exclude each other');
      let config: RecorderConfig;
      try {
        config = applyOverrides(options.config ? loadConfigFile(options.config) : parseConfig({ resources: [] }, 'the command line'), { ...options, namespace: resourceArgs.length ? [] : options.namespace });
      } catch (error) {
        if (error instanceof ConfigError) throw new UserError(error.message, 'See deploy/recorder.yaml for a commented example and docs/recorder.md for every field.');
        throw error;
      }
      const log: Logger = createLogger({ level: config.logLevel, write: (line) => context.output.err(line) });
      const sessionName = options.session ?? defaultSessionName('record', new Date());
      const name = SessionName.safeParse(sessionName);
      if (!name.success) throw new UserError(`--session: ${name.error.issues[0]?.message ?? 'invalid name'}`);
      const drainMs = parseDuration(options.drainTimeout ?? '20s');
      if (drainMs === undefined) throw new UserError(`--drain-timeout must be a duration, got "${options.drainTimeout}"`);

      let kube;
      try {
        kube = loadKubeConfig({ kubeconfig: options.kubeconfig, context: options.context, env: context.env });
      } catch (error) {
        if (error instanceof KubeConfigError) throw new UserError(error.message, error.hint);
        throw error;
      }
      let connection: KubeConnection | undefined;
      if (resourceArgs.length) {
        connection = await connectionFromConfig(kube);
        const resolved = await resolveNames(new KubeClient(connection, `${recorderUserAgent}/${toolVersion}`), resourceArgs, connection.description);
        config = { ...config, resources: namedResources(resolved, { namespaces: options.namespace ?? [], all: options.allNamespaces ?? false, kube }) };
        log.info('resources', { resolved: resolved.map((r) => `${r.group ? `${r.group}/` : ''}${r.version}/${r.resource}`).join(', ') });
      }
      const token = resolveToken(config, options, context.env);
      const listen = parseListen(config.server.listen);
      if (!token && !['127.0.0.1', 'localhost', '::1'].includes(listen.host)) {
        log.warn('listening on a non-loopback address without a token: anyone who can reach it can write to the session', { listen: config.server.listen });
      }

      const store = context.openStore({ cacheKiB: APPENDER_CACHE_KIB, pageSize: RECORDER_PAGE_SIZE });
      let recorder: Recorder;
      try {
        recorder = await Recorder.start({
          config,
          kube,
          store,
          dbPath: context.dbPath(),
          sessionName,
          toolVersion,
          token,
          log,
          // In process by default: each run reads only the new records, in slices between commits, and a worker's
          // second heap costs more memory than the runs cost time (docs/recorder.md, Performance).
          ...(options.detect === false
            ? {}
            : options.detectWorker && context.dbPath() !== ':memory:'
              ? { analyser: checkAnalysisInWorker(config.check, store.path) }
              : { analysis: checkAnalysis(config.check) }),
          reports: exportReports(context.env),
          ...(connection ? { connection } : {}),
        });
      } catch (error) {
        store.close();
        if (error instanceof RecorderStartError) throw new UserError(error.message, error.hint);
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UserError(`cannot listen on ${config.server.listen}: the address is in use`, 'Pass --listen with another port.');
        throw error;
      }
      log.info('credentials', { from: kube.source, context: kube.contextName, server: kube.cluster.server });
      log.info('database', { path: store.path, session: recorder.sessionInfo.name });

      const summary = await new Promise<RecorderSummary>((resolve, reject) => {
        let signals = 0;
        const onSignal = (signal: NodeJS.Signals) => {
          signals += 1;
          if (signals > 1) {
            log.error('second signal: exiting without draining', { signal });
            process.exit(ExitCode.internal);
          }
          log.info('signal received: draining', { signal });
          const timer = setTimeout(() => {
            log.error('drain timed out: exiting; the last batch may be lost', { timeoutMs: drainMs });
            process.exit(ExitCode.internal);
          }, drainMs);
          timer.unref();
          recorder
            .stop(`${signal} received`)
            .then(resolve, reject)
            .finally(() => {
              clearTimeout(timer);
              process.off('SIGTERM', onSignal);
              process.off('SIGINT', onSignal);
            });
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      }).finally(() => store.close());
      context.output.err(formatSummary(summary));
    });
}

/** Each name resolved through discovery; every name that matches nothing is listed, with its closest served name. */
async function resolveNames(client: KubeClient, names: readonly string[], server: string): Promise<ResolvedResource[]> {
  let catalog;
  try {
    catalog = await fetchCatalog(client);
  } catch (error) {
    throw new UserError(`cannot read discovery from ${server}: ${(error as Error).message}`, 'Check --kubeconfig / --context and that the API server is reachable (kubectl api-resources).');
  }
  const resolved: ResolvedResource[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const outcome = resolveResourceName(name, catalog);
    if (outcome.ok) resolved.push(outcome.resource);
    else problems.push(`${name}: ${outcome.message}`);
  }
  if (problems.length) throw new UserError(`${problems.length === 1 ? 'a resource name' : `${problems.length} resource names`} did not resolve on ${server}:\n  ${problems.join('\n  ')}`, 'kubectl api-resources lists the names it serves.');
  return resolved;
}

/** The watched resources for resolved names: -n, -A, else the kubeconfig context's namespace, as kubectl. */
export function namedResources(resolved: readonly ResolvedResource[], options: { namespaces: readonly string[]; all: boolean; kube: Pick<ResolvedKubeConfig, 'namespace'> }): ResourceSpec[] {
  const namespaces = options.all ? null : options.namespaces.length ? [...new Set(options.namespaces)] : [options.kube.namespace || 'default'];
  const seen = new Set<string>();
  const specs: ResourceSpec[] = [];
  for (const r of resolved) {
    const key = `${r.group}/${r.version}/${r.resource}`;
    if (seen.has(key)) continue;
    seen.add(key);
    specs.push({ group: r.group, version: r.version, resource: r.resource, namespaces: r.namespaced ? namespaces : null, scope: r.namespaced ? 'Namespaced' : 'Cluster' });
  }
  return specs;
}
