import { readFileSync } from 'node:fs';
import { LineCounter, isNode, parseDocument } from 'yaml';
import { FaultPlan } from '../model/index.js';
import { formatPath } from '../recorder/config.js';

/** A fault file that does not parse: each problem names the field, and the line where the file has one. */
export class FaultFileError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source} is not a valid fault plan:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'FaultFileError';
  }
}

/** Parses a fault plan from YAML or JSON text (model/faults.ts says what it may hold). */
export function parseFaultPlan(text: string, source: string): FaultPlan {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true });
  if (document.errors.length > 0) {
    throw new FaultFileError(
      source,
      document.errors.map((error) => {
        const line = error.linePos?.[0];
        return `${line ? `line ${line.line}, column ${line.col}` : '(syntax)'}: ${error.message.split('\n')[0]}`;
      }),
    );
  }
  const result = FaultPlan.safeParse(document.toJS() ?? {});
  if (result.success) return result.data;
  throw new FaultFileError(
    source,
    result.error.issues.map((issue) => {
      let where = '';
      for (let length = issue.path.length; length >= 0 && !where; length -= 1) {
        const node = document.getIn(issue.path.slice(0, length) as (string | number)[], true);
        if (isNode(node) && node.range) where = ` (line ${lineCounter.linePos(node.range[0]).line})`;
      }
      return `${formatPath(issue.path) || '(top level)'}${where}: ${issue.message}`;
    }),
  );
}

export function loadFaultPlan(path: string): FaultPlan {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new FaultFileError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  return parseFaultPlan(text, path);
}
