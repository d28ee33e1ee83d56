import type { Output } from '../context.js';
import { buildProgram, reportError } from '../main.js';

export interface CliRun {
  out: string;
  err: string;
  /** The exit code kreplay would end with: 0, or what reportError gives a thrown error. */
  code: number;
}

/** Runs one kreplay command in this process, as `kreplay <args>` with `env`, and captures what it printed. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  let out = '';
  let err = '';
  const output: Output = { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false };
  try {
    await (await buildProgram(output, env)).parseAsync([...args], { from: 'user' });
    return { out, err, code: 0 };
  } catch (error) {
    // reportError prints to `output` first: read what was printed after it.
    const code = reportError(error, output);
    return { out, err, code };
  }
}
