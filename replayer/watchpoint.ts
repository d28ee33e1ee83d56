/**
 * Field paths for watchpoints: "stop at the record that changed `.status.conditions[?type=Ready].status`".
 *
 * The syntax is the dotted form controller authors already type into `kubectl get -o jsonpath`, plus two
 * shorthands:
 *
 *   .spec.replicas                               a field (the leading dot is optional)
 *   .spec.ports[0].nodePort                      a list index (negative counts from the end: [-1])
 *   .status.conditions[?type=Ready].status       the list element whose field equals a value
 *   .status.conditions[?(@.type=="Ready")].status   the same, kubectl's filter syntax
 *   .metadata.labels["app.kubernetes.io/name"]   a key that is not a plain identifier (also ['...'])
 *   {.spec.replicas}                             kubectl's braces are accepted and ignored
 *
 * Pure: parse once, evaluate on every version of an object.
 */

export type PathSegment =
  | { readonly type: 'field'; readonly name: string }
  | { readonly type: 'index'; readonly index: number }
  | { readonly type: 'select'; readonly key: string; readonly value: string };

export interface FieldPath {
  readonly segments: readonly PathSegment[];
  /** The canonical text (what formatFieldPath prints), for display and for comparing two paths. */
  readonly text: string;
}

export type ParseResult = { readonly ok: true; readonly path: FieldPath } | { readonly ok: false; readonly error: string; readonly offset: number };

const identifier = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;
const identifierChar = /[A-Za-z0-9_$-]/;

function quote(text: string): string {
  return JSON.stringify(text);
}

/** Canonical text of a path; round-trips through parseFieldPath. */
export function formatFieldPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const segment of segments) {
    switch (segment.type) {
      case 'field':
        out += identifier.test(segment.name) ? `.${segment.name}` : `[${quote(segment.name)}]`;
        break;
      case 'index':
        out += `[${segment.index}]`;
        break;
      case 'select':
        out += `[?${identifier.test(segment.key) ? segment.key : quote(segment.key)}=${/^[A-Za-z0-9_.\-/:]+$/.test(segment.value) ? segment.value : quote(segment.value)}]`;
        break;
    }
  }
  return out === '' ? '.' : out;
}

class Parser {
  offset = 0;
  constructor(readonly text: string) {}

  fail(message: string, offset = this.offset): never {
    throw new PathSyntaxError(message, offset);
  }

  peek(): string | undefined {
    return this.text[this.offset];
  }

  eat(expected: string): boolean {
    if (this.text.startsWith(expected, this.offset)) {
      this.offset += expected.length;
      return true;
    }
    return false;
  }

  expect(expected: string, what: string): void {
    if (!this.eat(expected)) this.fail(`expected ${what}`);
  }

  skipSpaces(): void {
    while (this.peek() === ' ') this.offset++;
  }

  identifier(what: string): string {
    const start = this.offset;
    while (this.offset < this.text.length && identifierChar.test(this.text[this.offset]!)) this.offset++;
    if (start === this.offset) this.fail(`expected ${what}`);
    return this.text.slice(start, this.offset);
  }

  quoted(): string {
    const q = this.peek();
    if (q !== '"' && q !== "'") this.fail('expected a quoted string');
    const start = this.offset;
    this.offset++;
    let value = '';
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail('unterminated string', start);
      this.offset++;
      if (c === q) return value;
      if (c === '\\') {
        const next = this.peek();
        if (next === undefined) this.fail('unterminated string', start);
        this.offset++;
        value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
      } else value += c;
    }
  }

  /** A selector value: quoted, or a bare run up to `]` / `)`. */
  value(): string {
    this.skipSpaces();
    const c = this.peek();
    if (c === '"' || c === "'") return this.quoted();
    const start = this.offset;
    while (this.offset < this.text.length && !/[\])\s]/.test(this.text[this.offset]!)) this.offset++;
    if (start === this.offset) this.fail('expected a value to match');
    return this.text.slice(start, this.offset);
  }

  key(): string {
    const c = this.peek();
    return c === '"' || c === "'" ? this.quoted() : this.identifier('a field name');
  }

  /** After `[?`: `type=Ready`, `type==Ready`, `(@.type=="Ready")`. */
  selector(): PathSegment {
    this.skipSpaces();
    const paren = this.eat('(');
    this.skipSpaces();
    if (paren || this.peek() === '@') {
      this.expect('@', '"@" in a kubectl filter like (@.type=="Ready")');
      this.expect('.', '"." after "@"');
    }
    const key = this.key();
    this.skipSpaces();
    if (!this.eat('==')) this.expect('=', '"=" in a filter like [?type=Ready]');
    const value = this.value();
    this.skipSpaces();
    if (paren) this.expect(')', '")" to close the filter');
    this.skipSpaces();
    this.expect(']', '"]" to close the filter');
    return { type: 'select', key, value };
  }

  segments(): PathSegment[] {
    const out: PathSegment[] = [];
    const text = this.text;
    if (text === '' || text === '.') return out;
    if (identifierChar.test(text[0]!)) out.push({ type: 'field', name: this.identifier('a field name') });
    while (this.offset < this.text.length) {
      if (this.eat('.')) {
        const c = this.peek();
        if (c === '"' || c === "'") out.push({ type: 'field', name: this.quoted() });
        else out.push({ type: 'field', name: this.identifier('a field name after "."') });
      } else if (this.eat('[')) {
        this.skipSpaces();
        const c = this.peek();
        if (c === '?') {
          this.offset++;
          out.push(this.selector());
        } else if (c === '"' || c === "'") {
          out.push({ type: 'field', name: this.quoted() });
          this.skipSpaces();
          this.expect(']', '"]"');
        } else {
          const start = this.offset;
          this.eat('-');
          while (this.offset < this.text.length && /[0-9]/.test(this.text[this.offset]!)) this.offset++;
          const digits = this.text.slice(start, this.offset);
          if (!/^-?\d+$/.test(digits)) this.fail('expected a list index, a quoted key or a filter like [?type=Ready]', start);
          this.skipSpaces();
          this.expect(']', '"]"');
          out.push({ type: 'index', index: Number(digits) });
        }
      } else {
        this.fail(`unexpected "${this.peek()}"`);
      }
    }
    return out;
  }
}

class PathSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Parses a field path. Errors are values with the offset where parsing stopped, for the prompt to point at. */
export function parseFieldPath(text: string): ParseResult {
  let body = text.trim();
  // kubectl -o jsonpath wraps expressions in braces: accept a pasted `{.spec.replicas}`.
  if (body.startsWith('{') && body.endsWith('}')) body = body.slice(1, -1).trim();
  if (body === '') return { ok: false, error: 'a field path is empty: write one like .status.conditions[?type=Ready].status', offset: 0 };
  const parser = new Parser(body);
  try {
    const segments = parser.segments();
    return { ok: true, path: { segments, text: formatFieldPath(segments) } };
  } catch (error) {
    if (error instanceof PathSyntaxError) return { ok: false, error: error.message, offset: error.offset };
    throw error;
  }
}

export type Evaluation = { readonly found: true; readonly value: unknown } | { readonly found: false };

const notFound: Evaluation = { found: false };

function selectorMatches(item: unknown, key: string, value: string): boolean {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return false;
  const field = (item as Record<string, unknown>)[key];
  // Values in a path are text; compare numbers and booleans by their JSON text so [?port=80] matches 80.
  return field !== undefined && field !== null && (typeof field === 'string' ? field === value : JSON.stringify(field) === value);
}

/** Evaluates a path on an object. A missing field is "not found", which differs from a field set to null. */
export function evaluateFieldPath(path: FieldPath | readonly PathSegment[], object: unknown): Evaluation {
  const segments = 'segments' in path ? path.segments : path;
  let node: unknown = object;
  for (const segment of segments) {
    if (node === null || typeof node !== 'object') return notFound;
    if (segment.type === 'field') {
      if (Array.isArray(node) || !(segment.name in node)) return notFound;
      node = (node as Record<string, unknown>)[segment.name];
    } else if (segment.type === 'index') {
      if (!Array.isArray(node)) return notFound;
      const index = segment.index < 0 ? node.length + segment.index : segment.index;
      if (index < 0 || index >= node.length) return notFound;
      node = node[index];
    } else {
      if (!Array.isArray(node)) return notFound;
      const match = node.find((item) => selectorMatches(item, segment.key, segment.value));
      if (match === undefined) return notFound;
      node = match;
    }
  }
  return { found: true, value: node };
}

/** A stable identity of an evaluation, to tell "changed" from "same": keys compared in a canonical order. */
export function evaluationKey(evaluation: Evaluation): string {
  return evaluation.found ? `=${canonicalJson(evaluation.value)}` : '∅';
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value as object)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}

/** A short human rendering of a watched value: `"True"`, `3`, `<absent>`, `{…3 keys}`. */
export function formatEvaluation(evaluation: Evaluation, maxLength = 60): string {
  if (!evaluation.found) return '<absent>';
  const text = JSON.stringify(evaluation.value) ?? 'undefined';
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}

/** One version of an object as the watchpoint scan sees it. */
export interface WatchedVersion {
  readonly seq: number;
  readonly object: unknown;
}

/**
 * Where a watched value changes along an object's versions (oldest first). Index i is a change when the value
 * there differs from the value at i-1; the first version counts as a change when the field exists in it (the
 * value appeared with the object).
 */
export function changePoints(path: FieldPath, versions: readonly WatchedVersion[], previous?: Evaluation): Array<{ seq: number; before: Evaluation; after: Evaluation }> {
  const out: Array<{ seq: number; before: Evaluation; after: Evaluation }> = [];
  let before: Evaluation = previous ?? notFound;
  let beforeKey = evaluationKey(before);
  for (const version of versions) {
    const after = evaluateFieldPath(path, version.object);
    const afterKey = evaluationKey(after);
    if (afterKey !== beforeKey) out.push({ seq: version.seq, before, after });
    before = after;
    beforeKey = afterKey;
  }
  return out;
}
