import { importFile, type ImportFormat } from '../importers/index.js';
import { APPENDER_CACHE_KIB, openStore } from '../store/index.js';
import { MemoryWatch, memoryFigures } from '../test/memory-sampler.js';

/**
 * The import bench's child: one `importFile` of FILE (FORMAT) into DB, then its figures as JSON: peak RSS (getrusage)
 * and where its memory was at the largest of 10 samples a second (V8's heap reserved and live, malloc, binaries).
 */
async function main(file: string, db: string, format: ImportFormat): Promise<void> {
  // As `kreplay import` opens it.
  const store = openStore(db, { cacheKiB: APPENDER_CACHE_KIB });
  const memory = new MemoryWatch();
  const started = performance.now();
  const outcome = await importFile(store, { format, session: 'bench', input: { path: file }, toolVersion: 'bench' });
  store.close();
  memory.stop();
  if (!outcome.ok) throw new Error(`${outcome.reason}: ${outcome.message}`);
  const { summary } = outcome;
  process.stdout.write(
    `${JSON.stringify({ records: summary.records, problems: summary.problemCount, firstProblem: summary.problems[0], bytes: summary.bytesRead, seconds: (performance.now() - started) / 1000, maxRssKiB: process.resourceUsage().maxRSS, atPeak: memoryFigures(memory.peak) })}\n`,
  );
}

const [file, db, format] = process.argv.slice(2);
void main(file!, db!, (format ?? 'ndjson') as ImportFormat);
