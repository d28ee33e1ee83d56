import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledScript } from '../test/compiled-script.js';
import type { Figure } from './run.js';

/**
 * Importing a hostile file streams: a kreplay NDJSON file of delivery and watch records with a bad line every 1,000
 * (truncated, binary, a name Kubernetes never sends), imported in a process of its own, once per size. The figure
 * that matters is the peak resident set by file size, which must not grow with the file: `peak_rss_growth` is the
 * largest file's peak over the smallest's (target ≤ 1.2). KREPLAY_BENCH_IMPORT_MB sets the sizes (default 20,200).
 */
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
  const dir = mkdtempSync(join(tmpdir(), 'kreplay-bench-import-'));
  const figures: Figure[] = [];
  const peaks: number[] = [];
  try {
    const compiled = await compiledScript(fileURLToPath(new URL('./import-process.ts', import.meta.url)), dir);
    for (const megabytes of sizes) {
      const file = join(dir, `hostile-${megabytes}.ndjson`);
      const db = join(dir, `bench-${megabytes}.db`);
      const lines = await writeHostileFile(file, megabytes * 1_000_000);
      const out = execFileSync(compiled.command, [...compiled.args, file, db, 'ndjson'], { env: compiled.env, encoding: 'utf8', maxBuffer: 1 << 20 });
      rmSync(file);
      for (const leftover of [db, `${db}-wal`, `${db}-shm`]) rmSync(leftover, { force: true });
      const result = JSON.parse(out.trim().split('\n').pop()!) as ImportRun;
      console.error(`# import ${megabytes} MB: ${lines} lines, ${result.records} records, ${result.problems} problems (first: ${result.firstProblem})`);
      console.error(`#   peak RSS ${Math.round(result.maxRssKiB / 1024)} MiB; at the largest sample: ${JSON.stringify(result.atPeak)}`);
      const name = `import.hostile_ndjson.${megabytes}MB`;
      peaks.push(result.maxRssKiB / 1024);
      figures.push(
        { name: `${name}.records`, value: result.records, unit: 'records' },
        { name: `${name}.problems`, value: result.problems, unit: 'problems' },
        { name: `${name}.peak_rss`, value: Math.round(result.maxRssKiB / 1024), unit: 'MiB' },
        { name: `${name}.peak_heap_total`, value: Math.round(result.atPeak.heapTotalMiB ?? 0), unit: 'MiB' },
        { name: `${name}.throughput`, value: Math.round(result.bytes / 1_000_000 / result.seconds), unit: 'MB/s' },
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The largest file's figure under the name it always had, and how much the peak grew from the smallest file.
  const largest = sizes.indexOf(Math.max(...sizes));
  const smallest = sizes.indexOf(Math.min(...sizes));
  figures.push({ name: 'import.hostile_ndjson.peak_rss', value: Math.round(peaks[largest]!), unit: 'MiB' });
  if (sizes.length > 1) figures.push({ name: 'import.hostile_ndjson.peak_rss_growth', value: Math.round((peaks[largest]! / peaks[smallest]!) * 100) / 100, unit: `x (${sizes[largest]} MB / ${sizes[smallest]} MB)` });
  return figures;
}

async function writeHostileFile(path: string, bytes: number): Promise<number> {
  const out = createWriteStream(path);
  let written = 0;
  let line = 0;
  const at = (n: number) => new Date(Date.parse('2026-12-06T10:00:00Z') + n).toISOString();
  while (written < bytes) {
    line += 1;
    let text: string;
    if (line % 1000 === 0) {
      const bad = [`{"record":"delivery","observedAt":"${at(line)}"`, '\u00ff\u0001binary\u0000garbage', JSON.stringify({ record: 'delivery', observedAt: at(line), origin: 'ingest', controller: 'c', handler: 'add', object: { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'shop', name: 'x'.repeat(300) }, resourceVersion: '1' })];
      text = bad[(line / 1000) % bad.length]!;
    } else if (line % 2 === 0) {
      text = JSON.stringify({ record: 'delivery', observedAt: at(line), origin: 'ingest', controller: 'web-operator', handler: 'update', object: { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'shop', name: `web-${line % 500}` }, resourceVersion: String(line) });
    } else {
      const name = `cm-${line % 500}`;
      text = JSON.stringify({ record: 'watch', observedAt: at(line), origin: 'watch', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', type: 'MODIFIED', namespace: 'shop', name, uid: `uid-${name}`, resourceVersion: String(line), generation: null, object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'shop', uid: `uid-${name}`, resourceVersion: String(line) }, data: { value: String(line), padding: 'p'.repeat(200) } } });
    }
    const chunk = `${text}\n`;
    written += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return line;
}
