import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledScript } from '../test/compiled-script.js';
import type { Figure } from './run.js';

/**
 * Importing a 200 MB hostile file streams: a kreplay NDJSON file of delivery and watch records with a bad line every
 * 1,000 (truncated, binary, a name Kubernetes never sends), imported in a process of its own. The figure that matters
 * is its peak resident set, which must not grow with the file (KREPLAY_BENCH_IMPORT_MB sets the size).
 */
export default async function run(): Promise<Figure[]> {
  const megabytes = Number(process.env.KREPLAY_BENCH_IMPORT_MB ?? 200);
  const dir = mkdtempSync(join(tmpdir(), 'kreplay-bench-import-'));
  try {
    const file = join(dir, 'hostile.ndjson');
    const lines = await writeHostileFile(file, megabytes * 1_000_000);
    const compiled = await compiledScript(fileURLToPath(new URL('./import-process.ts', import.meta.url)), dir);
    const out = execFileSync(compiled.command, [...compiled.args, file, join(dir, 'bench.db'), 'ndjson'], { env: compiled.env, encoding: 'utf8', maxBuffer: 1 << 20 });
    const result = JSON.parse(out.trim().split('\n').pop()!) as { records: number; problems: number; firstProblem: string; bytes: number; seconds: number; maxRssKiB: number };
    console.error(`# import: ${lines} lines, ${result.records} records, ${result.problems} problems (first: ${result.firstProblem})`);
    return [
      { name: 'import.hostile_ndjson.megabytes', value: Math.round(result.bytes / 1_000_000), unit: 'MB' },
      { name: 'import.hostile_ndjson.records', value: result.records, unit: 'records' },
      { name: 'import.hostile_ndjson.problems', value: result.problems, unit: 'problems' },
      { name: 'import.hostile_ndjson.peak_rss', value: Math.round(result.maxRssKiB / 1024), unit: 'MiB' },
      { name: 'import.hostile_ndjson.throughput', value: Math.round(result.bytes / 1_000_000 / result.seconds), unit: 'MB/s' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
