import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledScript } from '../test/compiled-script.js';
import type { Figure } from './run.js';

/**
 * Importing a hostile file streams: a kreplay NDJSON file of delivery and watch records, and an audit log of update
 * events, each with a bad line every 1,000 (truncated, binary, a name Kubernetes never sends), imported in a process
 * of its own, once per size. The figure that matters is the peak resident set by file size, which must not grow with
 * the file: `peak_rss_growth` is the largest file's peak over the smallest's (target ≤ 1.2).
 * KREPLAY_BENCH_IMPORT_MB sets the sizes (default 20,200), KREPLAY_BENCH_IMPORT_FORMATS the formats (ndjson,audit).
 */
const benchFormats = ['ndjson', 'audit'] as const;
type BenchFormat = (typeof benchFormats)[number];

interface ImportRun {
  records: number;
  problems: number;
  firstProblem: string;
  bytes: number;
  seconds: number;
  maxRssKiB: number;
  atPeak: Record<string, number>;
}

export default async function run(): Promise<Figure[]> {
  const sizes = (process.env.KREPLAY_BENCH_IMPORT_MB ?? '20,200').split(',').map(Number);
  if (sizes.some((size) => !(size > 0))) throw new Error(`KREPLAY_BENCH_IMPORT_MB: sizes in MB, comma-separated (20,200), not ${process.env.KREPLAY_BENCH_IMPORT_MB}`);
  const formats = (process.env.KREPLAY_BENCH_IMPORT_FORMATS ?? benchFormats.join(',')).split(',') as BenchFormat[];
  if (formats.some((format) => !benchFormats.includes(format))) throw new Error(`KREPLAY_BENCH_IMPORT_FORMATS: ${benchFormats.join(', ')}, not ${process.env.KREPLAY_BENCH_IMPORT_FORMATS}`);
  const dir = mkdtempSync(join(tmpdir(), 'kreplay-bench-import-'));
  const figures: Figure[] = [];
  try {
    const compiled = await compiledScript(fileURLToPath(new URL('./import-process.ts', import.meta.url)), dir);
    for (const format of formats) {
      const peaks: number[] = [];
      for (const megabytes of sizes) {
        const file = join(dir, `hostile-${megabytes}.${format}`);
        const db = join(dir, `bench-${format}-${megabytes}.db`);
        const lines = await writeHostileFile(file, megabytes * 1_000_000, format);
        const out = execFileSync(compiled.command, [...compiled.args, file, db, format], { env: compiled.env, encoding: 'utf8', maxBuffer: 1 << 20 });
        rmSync(file);
        for (const leftover of [db, `${db}-wal`, `${db}-shm`]) rmSync(leftover, { force: true });
        const result = JSON.parse(out.trim().split('\n').pop()!) as ImportRun;
        console.error(`# import ${format} ${megabytes} MB: ${lines} lines, ${result.records} records, ${result.problems} problems (first: ${result.firstProblem})`);
        console.error(`#   peak RSS ${Math.round(result.maxRssKiB / 1024)} MiB; at the largest sample: ${JSON.stringify(result.atPeak)}`);
        const name = `import.hostile_${format}.${megabytes}MB`;
        peaks.push(result.maxRssKiB / 1024);
        figures.push(
          { name: `${name}.records`, value: result.records, unit: 'records' },
          { name: `${name}.problems`, value: result.problems, unit: 'problems' },
          { name: `${name}.peak_rss`, value: Math.round(result.maxRssKiB / 1024), unit: 'MiB' },
          { name: `${name}.peak_heap_total`, value: Math.round(result.atPeak.heapTotalMiB ?? 0), unit: 'MiB' },
          { name: `${name}.throughput`, value: Math.round(result.bytes / 1_000_000 / result.seconds), unit: 'MB/s' },
        );
      }
      // The largest file's figure (import.hostile_ndjson.peak_rss is the name it always had), and how much the peak
      // grew from the smallest file.
      const largest = sizes.indexOf(Math.max(...sizes));
      const smallest = sizes.indexOf(Math.min(...sizes));
      figures.push({ name: `import.hostile_${format}.peak_rss`, value: Math.round(peaks[largest]!), unit: 'MiB' });
      if (sizes.length > 1) figures.push({ name: `import.hostile_${format}.peak_rss_growth`, value: Math.round((peaks[largest]! / peaks[smallest]!) * 100) / 100, unit: `x (${sizes[largest]} MB / ${sizes[smallest]} MB)` });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

/** Line `line` of a hostile file: a bad value every 1,000 lines, good records of the format otherwise. */
function hostileLine(format: BenchFormat, line: number): string {
  const at = (n: number) => new Date(Date.parse('2026-12-06T10:00:00Z') + n).toISOString();
  if (format === 'audit') {
    const name = line % 1000 === 0 && (line / 1000) % 3 === 2 ? 'x'.repeat(300) : `web-${line % 500}`;
    const event = JSON.stringify({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: `4f2c9a1e-0000-4000-8000-${String(line).padStart(12, '0')}`,
      stage: 'ResponseComplete',
      requestURI: `/apis/apps/v1/namespaces/shop/deployments/${name}`,
      verb: 'update',
      user: { username: 'system:serviceaccount:shop:web-operator', groups: ['system:serviceaccounts', 'system:authenticated'] },
      sourceIPs: ['10.0.0.1'],
      userAgent: 'web-operator/v1.0',
      objectRef: { resource: 'deployments', namespace: 'shop', name, apiGroup: 'apps', apiVersion: 'v1' },
      responseStatus: { metadata: {}, code: 200 },
      requestReceivedTimestamp: at(line),
      stageTimestamp: at(line + 1),
      annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'RBAC' },
    });
    if (line % 1000 !== 0 || (line / 1000) % 3 === 2) return event;
    return (line / 1000) % 3 === 0 ? event.slice(0, 120) : '\u00ff\u0001binary\u0000garbage';
  }
  if (line % 1000 === 0) {
    const bad = [`{"record":"delivery","observedAt":"${at(line)}"`, '\u00ff\u0001binary\u0000garbage', JSON.stringify({ record: 'delivery', observedAt: at(line), origin: 'ingest', controller: 'c', handler: 'add', object: { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'shop', name: 'x'.repeat(300) }, resourceVersion: '1' })];
    return bad[(line / 1000) % bad.length]!;
  }
  if (line % 2 === 0) {
    return JSON.stringify({ record: 'delivery', observedAt: at(line), origin: 'ingest', controller: 'web-operator', handler: 'update', object: { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'shop', name: `web-${line % 500}` }, resourceVersion: String(line) });
  }
  const name = `cm-${line % 500}`;
  return JSON.stringify({ record: 'watch', observedAt: at(line), origin: 'watch', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', type: 'MODIFIED', namespace: 'shop', name, uid: `uid-${name}`, resourceVersion: String(line), generation: null, object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'shop', uid: `uid-${name}`, resourceVersion: String(line) }, data: { value: String(line), padding: 'p'.repeat(200) } } });
}

async function writeHostileFile(path: string, bytes: number, format: BenchFormat): Promise<number> {
  const out = createWriteStream(path);
  let written = 0;
  let line = 0;
  while (written < bytes) {
    line += 1;
    const chunk = `${hostileLine(format, line)}\n`;
    written += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return line;
}
