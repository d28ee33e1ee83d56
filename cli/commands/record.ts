import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SessionName, defaultSessionName } from '../../model/index.js';
import { ConfigError, loadConfigFile, parseDuration, parseSize, type RecorderConfig } from '../../recorder/config.js';
import { parseListen } from '../../recorder/ingest-server.js';
import { KubeConfigError, loadKubeConfig } from '../../recorder/kubeconfig.js';
import { createLogger, type Logger } from '../../recorder/log.js';
import { Recorder, RecorderStartError, type RecorderSummary } from '../../recorder/recorder.js';
import type { CliContext } from '../context.js';
import { ExitCode, UserError } from '../errors.js';

/**
 * The recorder's SQLite page cache (KiB): enough for the pages an append touches (the tails of the tables and of the
 * per-object index leaves of the objects being written); older pages are re-read from the OS's file cache.
 */
const RECORDER_CACHE_KIB = 2048;
import { toolVersion } from '../version.js';

interface RecordOptions {
  config: string;
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
    .requiredOption('-c, --config <file>', 'recorder configuration (YAML or JSON; see deploy/recorder.yaml)')
    .option('-s, --session <name>', 'session name: a new name starts a session, an existing one resumes it with a gap marker (default: record-<time>)')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then the in-cluster service account)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('--listen <addr>', 'host:port for ingest, audit webhook, health and metrics (overrides server.listen)')
    .option('--token <token>', 'bearer token required on /v1/records and /v1/audit (prefer --token-file or $KREPLAY_INGEST_TOKEN)')
    .option('--token-file <file>', 'file holding the bearer token')
    .option('-n, --namespace <ns>', 'record only this namespace (repeatable; overrides the config)', collect)
    .option('--flush-interval <duration>', 'longest wait before a batch is committed (≤ 250ms)')
    .option('--batch-size <n>', 'most records per transaction')
    .option('--max-age <duration>', 'retention: delete recorder sessions older than this (e.g. 7d)')
    .option('--max-size <size>', 'retention: keep the database under this size (e.g. 2Gi)')
    .option('--log-level <level>', 'debug, info, warn or error')
    .option('--drain-timeout <duration>', 'on SIGTERM, give up draining after this long', '20s')
    .action(async (options: RecordOptions) => {
      let config: RecorderConfig;
      try {
        config = applyOverrides(loadConfigFile(options.config), options);
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
      const token = resolveToken(config, options, context.env);
      const listen = parseListen(config.server.listen);
      if (!token && !['127.0.0.1', 'localhost', '::1'].includes(listen.host)) {
        log.warn('listening on a non-loopback address without a token: anyone who can reach it can write to the session', { listen: config.server.listen });
      }

      const store = context.openStore({ cacheKiB: RECORDER_CACHE_KIB });
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
