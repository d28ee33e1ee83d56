import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A TypeScript entry point as one plain JavaScript file, for a child process whose memory is measured (the fuzz
 * harness's ingest process, the import bench): under tsx the loader's own thread and caches are a third of the
 * resident set, and the figure would measure the tool. esbuild is what tsx itself compiles with (and installs).
 * Returns the command line to run it with.
 */
export async function compiledScript(entry: string, dir: string): Promise<{ command: string; args: string[]; env: NodeJS.ProcessEnv }> {
  const { build } = await import('esbuild');
  const outfile = join(dir, 'compiled-entry.cjs');
  // store/migrate.ts finds migrations/ from its own URL: the one use of import.meta on these paths.
  const migrateUrl = new URL('../store/migrate.ts', import.meta.url).href;
  // CommonJS, so the one native module left out of the bundle resolves through NODE_PATH from a temporary folder.
  await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['better-sqlite3'], define: { 'import.meta.url': JSON.stringify(migrateUrl) }, logLevel: 'error' });
  return { command: process.execPath, args: [outfile], env: { ...process.env, NODE_PATH: fileURLToPath(new URL('../node_modules/', import.meta.url)) } };
}
