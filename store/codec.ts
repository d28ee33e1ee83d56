import { brotliCompressSync, brotliDecompressSync, constants as zlib } from 'node:zlib';

/**
 * How object bodies are kept on disk. Each watch event's body is either a keyframe (the whole object as JSON) or a
 * delta (an RFC 6902 JSON patch against the previous version of the same object). The bodies written by one
 * append are concatenated into a chunk that is brotli-compressed as a whole: consecutive events of a watch stream
 * repeat the same paths and near-identical values, so a chunk compresses far better than each body alone, and a
 * read decompresses one chunk for many records.
 */
export const BodyKind = {
  none: 0,
  keyframe: 1,
  delta: 2,
} as const;
export type BodyKind = (typeof BodyKind)[keyof typeof BodyKind];

export const ChunkEncoding = {
  raw: 0,
  brotli: 1,
} as const;

/** A keyframe at least this often bounds the work to rebuild any one version (and the chunks it touches). */
export const KEYFRAME_INTERVAL = 32;
/** Bodies per chunk: large enough to compress well, small enough that a random read decompresses little. */
export const MAX_CHUNK_BODIES = 256;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type PatchOperation =
  | { op: 'add'; path: string; value: Json }
  | { op: 'replace'; path: string; value: Json }
  | { op: 'remove'; path: string };

function escapePointer(token: string): string {
  return token.includes('~') || token.includes('/') ? token.replace(/~/g, '~0').replace(/\//g, '~1') : token;
}

function unescapePointer(token: string): string {
  return token.includes('~') ? token.replace(/~1/g, '/').replace(/~0/g, '~') : token;
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The RFC 6902 operations that turn `before` into `after` (add, remove, replace only). Arrays are compared by
 * index, like fast-json-patch's `compare`: Kubernetes lists (conditions, containers) mostly change in place.
 * Subtrees shared by reference are skipped without a walk, and a path string is only built for a node that
 * changed: most of an object does not, and building paths for every node was the append path's main cost.
 */
export function diffJson(before: Json, after: Json): PatchOperation[] {
  const out: PatchOperation[] = [];
  diffInto(before, after, [], out);
  return out;
}

function pointer(stack: readonly string[], last?: string): string {
  let path = '';
  for (const token of stack) path += `/${escapePointer(token)}`;
  return last === undefined ? path : `${path}/${escapePointer(last)}`;
}

function diffInto(before: Json, after: Json, stack: string[], out: PatchOperation[]): void {
  if (before === after) return;
  if (typeof before !== 'object' || typeof after !== 'object' || before === null || after === null) {
    out.push({ op: 'replace', path: pointer(stack), value: after });
    return;
  }
  const beforeIsArray = Array.isArray(before);
  if (beforeIsArray !== Array.isArray(after)) {
    out.push({ op: 'replace', path: pointer(stack), value: after });
    return;
  }
  if (beforeIsArray) {
    const a = before as Json[];
    const b = after as Json[];
    const common = Math.min(a.length, b.length);
    for (let i = 0; i < common; i += 1) {
      const previous = a[i]!;
      const next = b[i]!;
      if (previous === next) continue;
      if (typeof previous !== 'object' || typeof next !== 'object' || previous === null || next === null) {
        out.push({ op: 'replace', path: pointer(stack, String(i)), value: next });
        continue;
      }
      stack.push(String(i));
      diffInto(previous, next, stack, out);
      stack.pop();
    }
    // Remove from the end first so each index is still valid when its operation applies.
    for (let i = a.length - 1; i >= b.length; i -= 1) out.push({ op: 'remove', path: pointer(stack, String(i)) });
    for (let i = a.length; i < b.length; i += 1) out.push({ op: 'add', path: pointer(stack, String(i)), value: b[i]! });
    return;
  }
  const a = before as { [key: string]: Json };
  const b = after as { [key: string]: Json };
  // for-in, not Object.keys: V8 walks a fast object's keys from its map's enum cache without allocating, and the two
  // key arrays per node were most of what the append path allocated (and so of the recorder's GC). JSON objects
  // have only own enumerable keys. A key whose value is undefined is absent, as JSON.stringify treats it.
  for (const key in a) {
    const previous = a[key];
    if (previous === undefined) continue;
    const next = ownValue(b, key);
    if (next === undefined) {
      out.push({ op: 'remove', path: pointer(stack, key) });
      continue;
    }
    if (previous === next) continue;
    // A changed leaf is written here: most changes are leaves, and a call per leaf was a third of the walk.
    if (typeof previous !== 'object' || typeof next !== 'object' || previous === null || next === null) {
      out.push({ op: 'replace', path: pointer(stack, key), value: next });
      continue;
    }
    stack.push(key);
    diffInto(previous, next, stack, out);
    stack.pop();
  }
  for (const key in b) {
    const next = b[key];
    if (next !== undefined && ownValue(a, key) === undefined) out.push({ op: 'add', path: pointer(stack, key), value: next });
  }
}

/**
 * `object[key]` if it is the object's own, else undefined. A plain read is enough unless it found something a JSON
 * value cannot be: Object.prototype's members are functions, and `__proto__` reads the prototype. So hasOwn (a
 * call per key, a fifth of the walk) runs only for the keys that name them (`constructor`, a ConfigMap's `__proto__`).
 */
function ownValue(object: { [key: string]: Json }, key: string): Json | undefined {
  const value = object[key];
  if (typeof value === 'function' || key === '__proto__') return Object.hasOwn(object, key) ? object[key] : undefined;
  return value;
}

/**
 * The text to store for `next`: a delta against `previous`, or a keyframe when the delta would not be much smaller
 * (a delete and re-create, a rewrite of most fields) or when `forceKeyframe` (the keyframe interval). `keyframeBytes`
 * is the size of the object's last keyframe, an estimate of the full object's size that spares serialising it on
 * every event. The patch is returned whenever there was a previous version: the store reads from it what changed.
 */
export function encodeBody(
  previous: Json | undefined,
  next: Json,
  keyframeBytes: number,
  forceKeyframe = false,
): { kind: BodyKind; text: string; patch: PatchOperation[] | undefined } {
  let patch: PatchOperation[] | undefined;
  if (previous !== undefined) {
    patch = diffJson(previous, next);
    if (!forceKeyframe) {
      const text = JSON.stringify(patch);
      if (text.length * 2 <= keyframeBytes) return { kind: BodyKind.delta, text, patch };
    }
  }
  return { kind: BodyKind.keyframe, text: JSON.stringify(next), patch };
}

/** Whether a patch touches the subtree at `prefix` (`/spec`), including replacing the whole document. */
export function patchTouches(patch: readonly PatchOperation[], prefix: string): boolean {
  for (const operation of patch) {
    const path = operation.path;
    if (path === '' || (path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 47))) return true;
  }
  return false;
}

/** Rebuilds a version from the previous one. `previous` is never mutated: versions share unchanged subtrees. */
export function decodeBody(kind: number, text: string, previous: unknown): unknown {
  if (kind === BodyKind.keyframe) return JSON.parse(text);
  if (previous === undefined) throw new Error('a delta body was read without the version it applies to');
  return applyPatchImmutable(previous as Json, JSON.parse(text) as PatchOperation[]);
}

export function compressChunk(text: string): { encoding: number; data: Buffer } {
  const raw = Buffer.from(text, 'utf8');
  if (raw.length < 128) return { encoding: ChunkEncoding.raw, data: raw };
  const packed = brotliCompressSync(raw, {
    params: {
      // Quality 1: on the recorder's chunks (about a hundred JSON patches) it compressed in about half the time of
      // quality 4 (0.8 against 1.5 µs an event with the image's malloc settings, which map and fault in each encoder's
      // hash table afresh) for 12.1 against 10.9 bytes an event, under 1 % of what an event costs stored (rows and
      // indexes are ~170 bytes). Quality 2 and up use larger hash tables. docs/recorder.md, "The CPU near its floor".
      [zlib.BROTLI_PARAM_QUALITY]: 1,
      [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
      [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
  return packed.length < raw.length ? { encoding: ChunkEncoding.brotli, data: packed } : { encoding: ChunkEncoding.raw, data: raw };
}

export function decompressChunk(encoding: number, data: Buffer): string {
  return (encoding === ChunkEncoding.brotli ? brotliDecompressSync(data) : data).toString('utf8');
}

/**
 * Applies add/remove/replace operations, copying only the containers on each operation's path. Versions handed
 * out earlier stay valid, and rebuilding a version costs O(patch · depth) instead of a deep clone of the object.
 * A container copied once by this patch is reused by its later operations: a status update touches the same few
 * containers many times.
 */
export function applyPatchImmutable(document: Json, operations: readonly PatchOperation[]): Json {
  let root = document;
  const copies = new Set<object>();
  for (const operation of operations) {
    if (operation.path === '') {
      if (operation.op === 'remove') throw new Error('a patch cannot remove the document root');
      root = operation.value;
      continue;
    }
    root = applyAt(root, operation.path.slice(1).split('/'), 0, operation, copies);
  }
  return root;
}

function applyAt(node: Json, tokens: readonly string[], index: number, operation: PatchOperation, copies: Set<object>): Json {
  const token = unescapePointer(tokens[index]!);
  const last = index === tokens.length - 1;
  if (Array.isArray(node)) {
    let copy = node;
    if (!copies.has(node)) {
      copy = node.slice();
      copies.add(copy);
    }
    const position = token === '-' ? copy.length : Number(token);
    if (!Number.isInteger(position) || position < 0 || position > copy.length) throw new Error(`patch path ${operation.path} has a bad array index`);
    if (!last) copy[position] = applyAt(copy[position] as Json, tokens, index + 1, operation, copies);
    else if (operation.op === 'add') copy.splice(position, 0, operation.value);
    else if (operation.op === 'replace') copy[position] = operation.value;
    else copy.splice(position, 1);
    return copy;
  }
  if (!isObject(node)) throw new Error(`patch path ${operation.path} goes through a value that is not a container`);
  let copy = node;
  if (!copies.has(node)) {
    copy = { ...node };
    copies.add(copy);
  }
  if (!last) setKey(copy, token, applyAt(copy[token] as Json, tokens, index + 1, operation, copies));
  else if (operation.op === 'remove') delete copy[token];
  else setKey(copy, token, operation.value);
  return copy;
}

/** `object[key] = value`, except that a ConfigMap data key named `__proto__` stays a key instead of a prototype. */
function setKey(object: { [key: string]: Json }, key: string, value: Json): void {
  if (key === '__proto__') Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  else object[key] = value;
}
