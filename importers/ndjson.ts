import { checkedRecord, isPlainObject, parseJson, SkipCounter, type ImportParser, type ParseEvent } from './parser.js';
import { redactObject, type KubeObject } from '../model/index.js';

/**
 * Imports kreplay's own format (docs/format.md): one `SessionRecord` per line, validated by the same zod schema the
 * store and the recorder's ingest endpoint use. `seq` is ignored (the store assigns it); each record keeps the
 * origin it declares, so a session exported and imported again still tells a relist from a watch event. Objects
 * go through the same Secret redaction as every other source. Blank lines are allowed.
 */

export interface NdjsonOptions {
  /** Extra dotted paths to redact on every object, as the recorder's `redaction.paths` (Secret data always is). */
  redact?: readonly string[];
}

export function createNdjsonParser(options: NdjsonOptions = {}): ImportParser {
  const skipped = new SkipCounter();
  const redactPaths = options.redact ?? [];
  let line = 0;

  function onLine(text: string): ParseEvent | undefined {
    line += 1;
    const trimmed = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (trimmed.trim() === '') return undefined;
    const parsed = parseJson(trimmed, line);
    if (!parsed.ok) return parsed.event;
    const value = parsed.value;
    if (!isPlainObject(value)) return { kind: 'problem', line, problem: 'not a JSON object: each line holds one record' };
    if (value.record === undefined) {
      if (typeof value.apiVersion === 'string' && value.apiVersion.startsWith('audit.k8s.io/')) {
        return { kind: 'problem', line, problem: 'this is a kube-apiserver audit event: import it with --format audit' };
      }
      if ((typeof value.type === 'string' && 'object' in value) || (typeof value.kind === 'string' && 'metadata' in value)) {
        return { kind: 'problem', line, problem: 'this is a Kubernetes watch event or object: import kubectl output with --format kubectl-watch' };
      }
    }
    const { seq: _ignored, ...candidate } = value;
    if (candidate.record === 'watch' && isPlainObject(candidate.object)) candidate.object = redactObject(candidate.object as KubeObject, redactPaths);
    if (candidate.record === 'api' && isPlainObject(candidate.responseObject)) candidate.responseObject = redactObject(candidate.responseObject as KubeObject, redactPaths);
    return checkedRecord(candidate, line);
  }

  /** The unfinished last line, in pieces: a long line spread over many chunks is joined once. */
  let pending: string[] = [];

  function lines(chunk: string, final: boolean): ParseEvent[] {
    const events: ParseEvent[] = [];
    let start = 0;
    for (let newline = chunk.indexOf('\n'); newline !== -1; newline = chunk.indexOf('\n', start)) {
      let text = chunk.slice(start, newline);
      if (pending.length) {
        text = pending.join('') + text;
        pending = [];
      }
      const event = onLine(text);
      if (event) events.push(event);
      start = newline + 1;
    }
    if (start < chunk.length) pending.push(chunk.slice(start));
    if (final && pending.length) {
      const event = onLine(pending.join(''));
      pending = [];
      if (event) events.push(event);
    }
    return events;
  }

  return {
    push: (chunk) => lines(chunk, false),
    end: () => lines('', true),
    skipped: () => skipped.toJSON(),
  };
}
