import { readFileSync } from 'node:fs';

/** kreplay's version from package.json (one level up from store/, two from dist/store/). */
function readVersion(): string {
  for (const relative of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'kreplay' && pkg.version) return pkg.version;
    } catch {
      // not at this level
    }
  }
  return '0.0.0-unknown';
}

export const toolVersion = readVersion();
