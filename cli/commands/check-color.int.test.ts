import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../store/index.js';
import { useTempDir } from '../../test/temp.js';
import type { Output } from '../context.js';
import { buildProgram } from '../main.js';
import { writeDemoSession } from './demo.js';

const ESC = '\u001b[';

async function check(db: string, isTTY: boolean, env: NodeJS.ProcessEnv): Promise<string> {
  let out = '';
  const output: Output = { out: (t) => void (out += t), err: () => undefined, isTTY };
  await (await buildProgram(output, { KREPLAY_DB: db, ...env })).parseAsync(['check', 'demo'], { from: 'user' });
  process.exitCode = undefined;
  return out;
}

describe('kreplay check colours', () => {
  const tempDir = useTempDir();

  it('colours severities on a terminal, and writes no escape codes when piped, with NO_COLOR or TERM=dumb', async () => {
    const db = join(tempDir(), 'kreplay.db');
    const store = openStore(db);
    writeDemoSession(store);
    store.close();

    const tty = await check(db, true, {});
    expect(tty).toContain(`${ESC}33m${ESC}1mWARNING${ESC}22m${ESC}39m`);
    expect(tty).toContain(`${ESC}34m${ESC}1mINFO${ESC}22m${ESC}39m`);
    expect(tty).toMatch(new RegExp(`[(,] ?${ESC.replace('[', '\\[')}33m${ESC.replace('[', '\\[')}1m\\d+ warning`));

    const piped = await check(db, false, {});
    expect(piped).not.toContain('\u001b');
    expect(await check(db, true, { NO_COLOR: '1' })).toBe(piped);
    expect(await check(db, true, { TERM: 'dumb' })).toBe(piped);
    // Colour changes nothing but the escapes: the columns line up the same.
    expect(tty.split(ESC).map((part, i) => (i === 0 ? part : part.replace(/^\d+m/, ''))).join('')).toBe(piped);
  });
});
