import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importFile, type ImportFormat } from '../../importers/import-file.js';
import type { SessionInfo } from '../../model/index.js';
import type { SessionStore } from '../../store/index.js';

/** The labelled scenario suite (README.md here): one directory per scenario, its recording and expected.json. */
export const scenarioRoot = dirname(fileURLToPath(import.meta.url));

/** What every expected.json says of how to import its recording (scenarios.int.test.ts validates the rest). */
export interface ScenarioImport {
  format: ImportFormat;
  file: string;
  controller?: string;
}

export interface LabelledScenario {
  name: string;
  /** expected.json as it is, read but not validated. */
  expected: { import: ScenarioImport; config?: Record<string, unknown> } & Record<string, unknown>;
}

/** Every scenario, by name. */
export function labelledScenarios(): LabelledScenario[] {
  return readdirSync(scenarioRoot)
    .filter((name) => statSync(join(scenarioRoot, name)).isDirectory())
    .sort()
    .map((name) => ({ name, expected: JSON.parse(readFileSync(join(scenarioRoot, name, 'expected.json'), 'utf8')) as LabelledScenario['expected'] }));
}

/** Imports a scenario's recording into a session of its name, as `kreplay import` would; throws if it fails. */
export async function importScenario(store: SessionStore, name: string, how: ScenarioImport, options: { strict?: boolean } = {}): Promise<SessionInfo> {
  const outcome = await importFile(store, {
    format: how.format,
    session: name,
    input: { path: join(scenarioRoot, name, how.file) },
    ...(how.controller ? { controller: how.controller } : {}),
    ...(options.strict ? { strict: true } : {}),
    toolVersion: 'test',
  });
  if (!outcome.ok) throw new Error(`import of ${name} failed: ${outcome.message}`);
  return outcome.summary.session;
}
