import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

/**
 * Runs every bench/*.bench.ts (or those whose name contains an argument: `npm run bench -- store`) and prints each
 * figure as one JSON line {"name","value","unit"} — the machine-readable part is the last lines of the output.
 * Benchmarks run one after another so they do not compete for the machine's two cores.
 */
export interface Figure {
  name: string;
  value: number;
  unit: string;
}

const dir = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();

if (files.length === 0) {
  console.error(`no benchmark matches ${filters.join(', ')}`);
  process.exit(2);
}

const figures: Figure[] = [];
for (const file of files) {
  console.error(`# ${file}`);
  const started = performance.now();
  const module = (await import(pathToFileURL(join(dir, file)).href)) as { default: () => Promise<Figure[]> };
  const results = await module.default();
  console.error(`# ${file} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  figures.push(...results);
}
for (const figure of figures) console.log(JSON.stringify(figure));
