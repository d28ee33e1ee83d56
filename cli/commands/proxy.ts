import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { Duration, FaultPlan, SessionName, faultProfiles, type FaultPlan as FaultPlanType, type FaultProfileName } from '../../model/index.js';
import { KubeConfigError, loadKubeConfig } from '../../recorder/kubeconfig.js';
import { createLogger, type LogLevel } from '../../recorder/log.js';
import { FaultFileError, loadFaultPlan } from '../../proxy/fault-file.js';
import { ProxySession, ProxyStartError } from '../../proxy/proxy-session.js';
import type { CliContext } from '../context.js';
import { ExitCode, UserError } from '../errors.js';
import { toolVersion } from '../version.js';

interface ProxyOptions {
  kubeconfig?: string;
  context?: string;
  listen: string;
  writeKubeconfig: string;
  session: string;
  faults?: string;
  as?: string;
  asGroup?: string[];
  controller?: string;
  ingest?: string;
  requestTimeout?: string;
  logLevel?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * host:port. `loopback` says whether only this machine can reach it: beyond loopback the proxy serves TLS and asks
 * for the client certificate it writes into the kubeconfig (proxy/tls.ts), since anyone who reaches it acts with the
 * upstream credentials. `loopbackOnly` (--ingest, plain HTTP with no client check) refuses anything else.
 */
export function parseProxyListen(text: string, flag = '--listen', loopbackOnly = false): { host: string; port: number; loopback: boolean } {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text.trim());
  if (!match) throw new UserError(`${flag} must be host:port, e.g. 127.0.0.1:8001, got "${text}"`);
  const host = match[1]!;
  const port = Number(match[2]);
  if (port > 65535) throw new UserError(`${flag}: port ${port} is out of range`);
  const loopback = loopbackHosts.has(host) || /^127\./.test(host);
  if (!loopback && loopbackOnly) {
    throw new UserError(`${flag} ${text}: only loopback (127.0.0.1, ::1)`, 'It serves plain HTTP with no client check. Run the controller on this machine, or tunnel to it.');
  }
  return { host: host.replace(/^\[|\]$/g, ''), port, loopback };
}

export function registerProxy(program: Command, context: CliContext): void {
  program
    .command('proxy')
    .description("run a Kubernetes API proxy for one controller and record what it saw (its LIST/WATCH deliveries and its writes) into a session; optionally inject faults. With -- COMMAND, runs the controller with KUBECONFIG pointing at the proxy and stops with it")
    .requiredOption('--listen <host:port>', 'where the proxy listens (port 0 picks a free one); beyond loopback it serves TLS with a CA made for the run and takes only the client certificate it writes into the kubeconfig')
    .requiredOption('--write-kubeconfig <file>', 'write the kubeconfig the controller should use here')
    .requiredOption('-s, --session <name>', 'the new session to record into')
    .option('--kubeconfig <file>', 'upstream kubeconfig (default: $KUBECONFIG, ~/.kube/config, then the in-cluster service account)')
    .option('--context <name>', 'upstream kubeconfig context')
    .option('--faults <file|profile>', `fault plan (YAML or JSON, docs/proxy.md), or a profile: ${Object.keys(faultProfiles).join(', ')}`)
    .option('--as <user>', 'impersonate this user upstream (as kubectl --as)')
    .option('--as-group <group>', 'impersonate this group upstream (repeatable)', collect)
    .option('--controller <name>', "the controller's name in the session (API records' actor when it does not impersonate; what `check --controller` matches)")
    .option('--ingest <host:port>', "also serve the kreplay SDK's ingest endpoint (loopback; port 0 picks one) into this session; -- COMMAND gets KREPLAY_INGEST_URL")
    .option('--request-timeout <duration>', 'answer 504 when the API server has not answered a request that is not long-running within this (90s; 0: never; watches are never cut)')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .argument('[command...]', 'the controller to run (after --), with KUBECONFIG set to the written kubeconfig')
    .action(async (command: string[], options: ProxyOptions) => {
      const nameCheck = SessionName.safeParse(options.session);
      if (!nameCheck.success) throw new UserError(`--session: ${nameCheck.error.issues[0]?.message}`);
      const listen = parseProxyListen(options.listen);
      const ingest = options.ingest === undefined ? undefined : parseProxyListen(options.ingest, '--ingest', true);
      let requestTimeoutMs: number | undefined;
      if (options.requestTimeout !== undefined) {
        const parsed = options.requestTimeout === '0' ? { success: true as const, data: 0 } : Duration.safeParse(options.requestTimeout);
        if (!parsed.success) throw new UserError(`--request-timeout: ${parsed.error.issues[0]?.message}`);
        requestTimeoutMs = parsed.data;
      }
      if (options.asGroup?.length && !options.as) throw new UserError('--as-group needs --as (impersonating groups without a user is not allowed by the API server)');
      if (!['debug', 'info', 'warn', 'error'].includes(options.logLevel ?? 'info')) throw new UserError(`--log-level must be debug, info, warn or error, got "${options.logLevel}"`);
      let faults: FaultPlanType = FaultPlan.parse({});
      if (options.faults && !existsSync(options.faults) && Object.hasOwn(faultProfiles, options.faults)) {
        faults = FaultPlan.parse(faultProfiles[options.faults as FaultProfileName]);
      } else if (options.faults) {
        if (!existsSync(options.faults) && !/[./]/.test(options.faults)) {
          throw new UserError(`--faults ${options.faults}: no such file, and not a profile (profiles: ${Object.keys(faultProfiles).join(', ')})`);
        }
        try {
          faults = loadFaultPlan(options.faults);
        } catch (error) {
          if (error instanceof FaultFileError) throw new UserError(`--faults: ${error.message}`);
          throw error;
        }
      }
      let upstream;
      try {
        upstream = loadKubeConfig({ kubeconfig: options.kubeconfig, context: options.context, env: context.env });
      } catch (error) {
        if (error instanceof KubeConfigError) throw new UserError(error.message);
        throw error;
      }
      const log = createLogger({ level: (options.logLevel ?? 'info') as LogLevel, write: (line) => context.output.err(line) });
      const kubeconfigOut = resolve(options.writeKubeconfig);
      const store = context.openStore();
      const run = new ProxySession({
        store,
        sessionName: options.session,
        upstream,
        listen: { host: listen.host, port: listen.port },
        tls: !listen.loopback,
        kubeconfigOut,
        faults,
        ingest,
        requestTimeoutMs,
        controller: options.controller,
        impersonate: options.as ? { user: options.as, groups: options.asGroup ?? [] } : undefined,
        toolVersion,
        config: {
          listen: options.listen,
          ...(options.controller ?? options.as ? { controller: options.controller ?? options.as } : {}),
          ...(options.as ? { as: options.as, asGroups: options.asGroup ?? [] } : {}),
          ...(options.faults ? { faultsFile: options.faults, faults } : {}),
          ...(command.length ? { command } : {}),
        },
        log,
      });
      try {
        await run.start();
      } catch (error) {
        store.close();
        if (error instanceof ProxyStartError) throw new UserError(error.message);
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES') throw new UserError(`--listen ${options.listen}: ${(error as Error).message}`);
        throw error;
      }
      context.output.err(`kreplay proxy: ${run.url} → ${upstream.cluster.server} (context ${upstream.contextName}); session ${run.session.name}; kubeconfig ${kubeconfigOut}${run.ingestUrl ? `; SDK ingest ${run.ingestUrl}` : ''}\n`);
      const code = await new Promise<number>((resolveCode) => {
        let child: ChildProcess | undefined;
        let stopping = false;
        const stop = (reason: string, exitCode: number) => {
          if (stopping) return;
          stopping = true;
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          process.off('SIGUSR1', onStopFaults);
          void run
            .stop(reason)
            .catch((error: unknown) => log.error('stopping the proxy failed', { error: (error as Error).message }))
            .finally(() => {
              store.close();
              resolveCode(exitCode);
            });
        };
        // SIGUSR1: the faults stop, the proxy goes on (does the controller converge once the API server behaves?).
        const onStopFaults = () => {
          if (run.stopFaults('SIGUSR1 received')) context.output.err('kreplay proxy: fault injection stopped (SIGUSR1)\n');
        };
        const onSignal = (signal: NodeJS.Signals) => {
          if (child && child.exitCode === null && child.signalCode === null) {
            // The controller first: it ends its watches through the proxy, which records their close.
            child.kill('SIGTERM');
            const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
            timer.unref();
            return;
          }
          stop(`${signal} received`, ExitCode.ok);
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        process.on('SIGUSR1', onStopFaults);
        if (command.length) {
          child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env: { ...context.env, KUBECONFIG: kubeconfigOut, ...(run.ingestUrl ? { KREPLAY_INGEST_URL: run.ingestUrl } : {}) } });
          child.on('error', (error) => {
            context.output.err(`kreplay proxy: could not run ${command[0]}: ${error.message}\n`);
            stop(`the command failed to start: ${error.message}`, ExitCode.usage);
          });
          child.on('exit', (exitCode, signal) => {
            const codeOut = exitCode ?? (signal ? 128 + (signalNumbers[signal] ?? 15) : 1);
            stop(`${command[0]} exited ${signal ? `on ${signal}` : `with code ${exitCode}`}`, codeOut);
          });
        }
      });
      process.exitCode = code;
    });
}

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGQUIT: 3, SIGABRT: 6 };
