import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { z } from 'zod';
import { CheckConfig } from '../model/check-config.js';
import { reflectorBackoff } from './backoff.js';

/**
 * The recorder's configuration: a YAML or JSON file (YAML is a superset), validated here, overridden by flags.
 * Every problem is reported with the path in the file, the line when known, and what was expected.
 * deploy/recorder.yaml is a commented example; docs/recorder.md documents every field.
 */

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** '250ms', '30s', '5m', '1h30m', '7d'. A unit is required (a bare number is ambiguous: ms? s?), except for 0. */
export function parseDuration(value: string | number): number | undefined {
  // A bare number has no unit, so it is refused, except 0, which means the same in every unit.
  if (typeof value === 'number') return value === 0 ? 0 : undefined;
  const text = value.trim();
  if (text === '0') return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit!]!, 0);
}

const sizeUnits: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  ki: 1024,
  kib: 1024,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
};

/** '512Mi', '1Gi', '2GB', '4096'; Kubernetes quantity suffixes and the usual byte units. */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(value.trim());
  if (!match) return undefined;
  const factor = sizeUnits[match[2]!.toLowerCase()];
  return factor === undefined ? undefined : Math.floor(Number(match[1]) * factor);
}

const Duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration; write it with a unit, e.g. 250ms, 30s, 5m, 12h or 7d` });
    return z.NEVER;
  }
  return ms;
});

const Size = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const bytes = parseSize(value);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a size; write e.g. 512Mi, 1Gi or 2GB` });
    return z.NEVER;
  }
  return bytes;
});

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const Namespace = z.string().regex(dns1123Label, 'a namespace is a lower-case DNS label (a-z, 0-9, "-")').max(63);

export const resourceScopes = ['Namespaced', 'Cluster'] as const;

const ResourceObject = z
  .strictObject({
    /** 'apps/v1' or 'v1'; or group + version. */
    apiVersion: z.string().min(1).optional(),
    group: z.string().optional(),
    version: z.string().min(1).optional(),
    /** Plural, lower-case, as in the URL: deployments, configmaps, foos. */
    resource: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'a resource is the plural lower-case name used in URLs, e.g. deployments'),
    /** Omit (or leave empty) to watch all namespaces. Ignored for cluster-scoped resources. */
    namespaces: z.array(Namespace).optional(),
    labelSelector: z.string().optional(),
    fieldSelector: z.string().optional(),
    /**
     * Scope hint for `kreplay rbac`, which runs without a cluster. At run time discovery decides. Well-known core
     * resources need no hint.
     */
    scope: z.enum(resourceScopes).optional(),
  })
  .superRefine((resource, ctx) => {
    if (resource.apiVersion && (resource.group !== undefined || resource.version !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['apiVersion'], message: 'give either apiVersion or group + version, not both' });
    }
    if (!resource.apiVersion && !resource.version) {
      ctx.addIssue({ code: 'custom', path: ['version'], message: 'a resource needs a version (or an apiVersion such as apps/v1)' });
    }
  });

/** A resource: an object, or the short form 'apps/v1/deployments' / 'v1/configmaps' when nothing else is needed. */
const Resource = z.union([z.string(), ResourceObject]).transform((value, ctx) => {
  if (typeof value !== 'string') return value;
  const parts = value.split('/');
  const plural = parts.at(-1) ?? '';
  if ((parts.length === 2 || parts.length === 3) && parts.every(Boolean) && /^[a-z0-9][a-z0-9.-]*$/.test(plural)) {
    return parts.length === 2 ? { group: '', version: parts[0]!, resource: plural } : { group: parts[0]!, version: parts[1]!, resource: plural };
  }
  ctx.addIssue({ code: 'custom', message: `"${value}" is not group/version/resource (e.g. apps/v1/deployments) or version/resource (v1/configmaps)` });
  return z.NEVER;
});

export const auditScopes = ['watched', 'all'] as const;

export const RecorderConfigSchema = z.strictObject({
  /**
   * What to watch. Empty only for an audit-webhook-only recorder (audit.enabled): it watches nothing and records
   * what the API server's audit webhook sends, for a controller that cannot be instrumented or a recorder that may
   * not list and watch.
   */
  resources: z.array(Resource),
  /** Default namespaces for resources that do not list their own. Omit for all namespaces. */
  namespaces: z.array(Namespace).optional(),
  /** The controller under study: its API writes are marked byController. */
  controller: z
    .strictObject({
      /** A display name for the controller, used in the session's metadata. */
      name: z.string().min(1).optional(),
      /** The user the controller authenticates as, e.g. system:serviceaccount:ops:web-operator. */
      username: z.string().min(1).optional(),
      serviceAccount: z.strictObject({ namespace: Namespace, name: z.string().min(1) }).optional(),
    })
    .default({}),
  redaction: z
    .strictObject({
      /** Dotted paths redacted on every object of every kind (Secret data is always redacted). */
      paths: z.array(z.string().regex(/^[^.]+(\.[^.]+)*$/, 'a path is dotted field names, e.g. spec.credentials.password')).default([]),
    })
    .default({ paths: [] }),
  writer: z
    .strictObject({
      /** Longest time a record waits in memory before its batch is committed. At most 250 ms. */
      flushInterval: Duration.default(100).refine((ms) => ms > 0 && ms <= 250, 'flushInterval is at most 250ms (and more than 0)'),
      /** Most records per transaction. */
      batchSize: z.number().int().min(1).max(10_000).default(500),
      /** Records held in memory at most before watches are slowed and ingest batches are dropped (with a marker). */
      queueSize: z.number().int().min(100).default(5_000),
    })
    .default({ flushInterval: 100, batchSize: 500, queueSize: 5_000 }),
  retention: z
    .strictObject({
      /** Recorder sessions whose newest record is older than this are deleted; the live session rotates at maxAge/4. */
      maxAge: Duration.optional(),
      /** Database size (pages in use) above which the oldest recorder sessions are deleted. */
      maxSize: Size.optional(),
      checkInterval: Duration.default(30_000),
    })
    .default({ checkInterval: 30_000 }),
  server: z
    .strictObject({
      /** host:port for ingest, audit webhook, health and metrics. Loopback unless you mean otherwise. */
      listen: z.string().default('127.0.0.1:9477'),
      /** Bearer token required on /v1/records and /v1/audit. Prefer tokenFile or KREPLAY_INGEST_TOKEN. */
      token: z.string().min(16, 'a token is at least 16 characters').optional(),
      tokenFile: z.string().min(1).optional(),
      maxBodySize: Size.default(4 * 1024 * 1024),
      /** Ingested records per second (token bucket); excess requests get 429. */
      recordsPerSecond: z.number().positive().default(5_000),
      burst: z.number().int().positive().default(20_000),
      /** Records one ingest or audit request may hold; a bigger batch gets 413 (bounds a request's memory). */
      maxBatchRecords: z.number().int().positive().default(10_000),
      /** Records whose own timestamps are further than this from their receipt are kept but flagged (clockSkew). */
      maxClockSkew: Duration.default(5 * 60_000),
    })
    .default({ listen: '127.0.0.1:9477', maxBodySize: 4 * 1024 * 1024, recordsPerSecond: 5_000, burst: 20_000, maxBatchRecords: 10_000, maxClockSkew: 5 * 60_000 }),
  audit: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** watched: writes to the watched resources and every request of the controller; all: every write. */
      scope: z.enum(auditScopes).default('watched'),
    })
    .default({ enabled: true, scope: 'watched' }),
  watch: z
    .strictObject({
      pageSize: z.number().int().min(1).max(10_000).default(500),
      /** Server-side watch timeout, randomised in [t, 2t) like the reflector's. */
      timeout: Duration.default(300_000),
      /** No bytes (not even a bookmark) for this long: the connection is presumed dead and re-opened. */
      inactivityTimeout: Duration.default(150_000),
      /**
       * A busy watch is read at most this often: what arrives in between waits in the socket and is read at once.
       * Fewer wake-ups cost less CPU (about a fifth of the recorder's at 1,000 events/s); each event waits at most
       * this much longer before it is recorded. 0 reads every segment as it arrives.
       */
      readInterval: Duration.default(50).refine((ms) => ms >= 0 && ms <= 200, 'readInterval is at most 200ms (0 turns pacing off)'),
      initialBackoff: Duration.default(reflectorBackoff.initialMs),
      maxBackoff: Duration.default(reflectorBackoff.maxMs),
    })
    .default({ pageSize: 500, timeout: 300_000, inactivityTimeout: 150_000, readInterval: 50, initialBackoff: reflectorBackoff.initialMs, maxBackoff: reflectorBackoff.maxMs }),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /**
   * Online detection (live-findings.ts): exactly what `kreplay check --config` reads (thresholds, only/skip, failOn,
   * suppress, controller), so one file tunes both and the recorder's findings are check's.
   */
  check: CheckConfig.prefault({}),
  /**
   * How much the online analysis may cost (live-findings.ts): its runs take at most `cpuShare` of a core over time,
   * and start at most every `minInterval`. A smaller share costs detection latency, not records: a run that cannot
   * keep up reads more at its next turn (kreplay_recorder_analysis_lag_records says how far behind it is). Past
   * `heapShare` of the heap limit kept live, detection stops for good so the recording does not run out of memory.
   */
  detection: z
    .strictObject({
      cpuShare: z.number().gt(0, 'detection.cpuShare is a share of one core: more than 0').max(1, 'detection.cpuShare is a share of one core: at most 1').default(0.1),
      minInterval: Duration.default(1_000).refine((ms) => ms >= 100 && ms <= 600_000, 'detection.minInterval is between 100ms and 10m'),
      heapShare: z.number().gt(0, 'detection.heapShare is a share of the heap limit: more than 0').max(0.95, 'detection.heapShare is a share of the heap limit: at most 0.95').default(0.7),
    })
    .default({ cpuShare: 0.1, minInterval: 1_000, heapShare: 0.7 }),
}).superRefine((config, ctx) => {
  if (config.resources.length === 0 && !config.audit.enabled) {
    ctx.addIssue({ code: 'custom', path: ['resources'], message: 'name at least one resource to watch (with none, keep audit.enabled: an audit-webhook-only recorder)' });
  }
});

export type RecorderConfigInput = z.input<typeof RecorderConfigSchema>;
type ParsedConfig = z.output<typeof RecorderConfigSchema>;

/** One watched resource with every default applied. */
export interface ResourceSpec {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  /** null: all namespaces (or a cluster-scoped resource). */
  readonly namespaces: readonly string[] | null;
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
  readonly scope?: (typeof resourceScopes)[number] | undefined;
}

export type RecorderConfig = Omit<ParsedConfig, 'resources'> & { resources: ResourceSpec[] };

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source} is not a valid recorder configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function normalise(parsed: ParsedConfig): RecorderConfig {
  const resources = parsed.resources.map((entry): ResourceSpec => {
    let group = 'group' in entry && entry.group !== undefined ? entry.group : '';
    let version = 'version' in entry && entry.version !== undefined ? entry.version : '';
    if ('apiVersion' in entry && entry.apiVersion) {
      const slash = entry.apiVersion.indexOf('/');
      group = slash === -1 ? '' : entry.apiVersion.slice(0, slash);
      version = slash === -1 ? entry.apiVersion : entry.apiVersion.slice(slash + 1);
    }
    const own = 'namespaces' in entry ? entry.namespaces : undefined;
    const namespaces = own ?? parsed.namespaces;
    return {
      group,
      version,
      resource: entry.resource,
      namespaces: namespaces && namespaces.length > 0 ? [...new Set(namespaces)] : null,
      labelSelector: 'labelSelector' in entry ? entry.labelSelector : undefined,
      fieldSelector: 'fieldSelector' in entry ? entry.fieldSelector : undefined,
      scope: 'scope' in entry ? entry.scope : undefined,
    };
  });
  const seen = new Set<string>();
  for (const r of resources) {
    const key = `${r.group}/${r.resource}`;
    if (seen.has(key)) throw new ConfigError('configuration', [`resources: ${key} is listed twice; merge the entries (namespaces is a list)`]);
    seen.add(key);
  }
  return { ...parsed, resources };
}

/** Validates an already parsed object (from a file, or built by a test). */
export function parseConfig(input: unknown, source = 'configuration', locate?: (path: readonly PropertyKey[]) => string): RecorderConfig {
  const result = RecorderConfigSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      source,
      result.error.issues.map((issue) => {
        const path = formatPath(issue.path);
        const where = locate?.(issue.path) ?? '';
        return `${path || '(top level)'}${where}: ${issue.message}`;
      }),
    );
  }
  return normalise(result.data);
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${String(part)}` : String(part)), '');
}

/** Parses YAML or JSON text; problems name the file, the path and the line. */
export function parseConfigText(text: string, source: string): RecorderConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      source,
      document.errors.map((error) => {
        const line = error.linePos?.[0];
        return `${line ? `line ${line.line}, column ${line.col}` : '(syntax)'}: ${error.message.split('\n')[0]}`;
      }),
    );
  }
  const locate = (path: readonly PropertyKey[]): string => {
    // The deepest node that exists on the path: a missing key is reported at its parent.
    for (let length = path.length; length >= 0; length -= 1) {
      const node = document.getIn(path.slice(0, length) as (string | number)[], true);
      if (isNode(node) && node.range) return ` (line ${lineCounter.linePos(node.range[0]).line})`;
    }
    return '';
  };
  return parseConfig(document.toJS() ?? {}, source, locate);
}

export function loadConfigFile(path: string): RecorderConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  return parseConfigText(text, path);
}

/** The users whose requests count as the controller's (audit `byController`). */
export function controllerUsernames(config: Pick<RecorderConfig, 'controller'>): string[] {
  const names: string[] = [];
  if (config.controller.username) names.push(config.controller.username);
  const sa = config.controller.serviceAccount;
  if (sa) names.push(`system:serviceaccount:${sa.namespace}:${sa.name}`);
  return names;
}

/**
 * Core and built-in resources that are cluster-scoped, for `kreplay rbac` (which has no cluster to ask). At run
 * time the recorder asks discovery instead. Source: `kubectl api-resources --namespaced=false` on v1.36.
 */
export const clusterScopedResources: ReadonlySet<string> = new Set([
  '/namespaces',
  '/nodes',
  '/persistentvolumes',
  '/componentstatuses',
  'rbac.authorization.k8s.io/clusterroles',
  'rbac.authorization.k8s.io/clusterrolebindings',
  'apiextensions.k8s.io/customresourcedefinitions',
  'storage.k8s.io/storageclasses',
  'storage.k8s.io/csidrivers',
  'storage.k8s.io/csinodes',
  'storage.k8s.io/volumeattachments',
  'scheduling.k8s.io/priorityclasses',
  'admissionregistration.k8s.io/mutatingwebhookconfigurations',
  'admissionregistration.k8s.io/validatingwebhookconfigurations',
  'admissionregistration.k8s.io/validatingadmissionpolicies',
  'admissionregistration.k8s.io/validatingadmissionpolicybindings',
  'apiregistration.k8s.io/apiservices',
  'certificates.k8s.io/certificatesigningrequests',
  'flowcontrol.apiserver.k8s.io/flowschemas',
  'flowcontrol.apiserver.k8s.io/prioritylevelconfigurations',
  'networking.k8s.io/ingressclasses',
  'networking.k8s.io/ipaddresses',
  'networking.k8s.io/servicecidrs',
  'node.k8s.io/runtimeclasses',
  'resource.k8s.io/deviceclasses',
  'resource.k8s.io/resourceslices',
]);

export function isClusterScoped(resource: Pick<ResourceSpec, 'group' | 'resource' | 'scope'>): boolean {
  if (resource.scope) return resource.scope === 'Cluster';
  return clusterScopedResources.has(`${resource.group}/${resource.resource}`);
}

/** The configuration as stored in the session's metadata: the token never is. */
export function configForSession(config: RecorderConfig): Record<string, unknown> {
  const { server, ...rest } = config;
  const { token: _token, tokenFile: _tokenFile, ...safeServer } = server;
  return { ...rest, server: safeServer };
}
