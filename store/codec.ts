import { brotliCompressSync, brotliDecompressSync, constants as zlib } from 'node:zlib';
import fastJsonPatch, { type Operation } from 'fast-json-patch';

// fast-json-patch is CommonJS: Node's ESM loader exposes it as a default export only.
const { compare } = fastJsonPatch;

/**
 * How an object body is kept on disk. A keyframe is the whole object; a delta is an RFC 6902 JSON patch against
 * the previous version of the same object. Both are brotli-compressed unless that would not pay.
 */
export const BodyEncoding = {
  none: 0,
  keyframeBrotli: 1,
  deltaBrotli: 2,
  deltaJson: 3,
  keyframeJson: 4,
} as const;
export type BodyEncoding = (typeof BodyEncoding)[keyof typeof BodyEncoding];

/** A keyframe at least this often bounds the work to rebuild any one version. */
export const KEYFRAME_INTERVAL = 64;
/** Below this size brotli's framing costs more than it saves. */
const MIN_COMPRESS_BYTES = 96;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const brotliOptions = (size: number) => ({
  params: {
    // Quality 5 is the knee of brotli's speed/size curve for small JSON; a 64 KiB window covers any patch.
    [zlib.BROTLI_PARAM_QUALITY]: 5,
    [zlib.BROTLI_PARAM_LGWIN]: 16,
    [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
    [zlib.BROTLI_PARAM_SIZE_HINT]: size,
  },
});

function pack(text: string, compressed: BodyEncoding, plain: BodyEncoding): { encoding: BodyEncoding; body: Buffer } {
  const raw = Buffer.from(text, 'utf8');
  if (raw.length < MIN_COMPRESS_BYTES) return { encoding: plain, body: raw };
  const packed = brotliCompressSync(raw, brotliOptions(raw.length));
  return packed.length < raw.length * 0.9 ? { encoding: compressed, body: packed } : { encoding: plain, body: raw };
}

export function encodeKeyframe(object: unknown): { encoding: BodyEncoding; body: Buffer } {
  return pack(JSON.stringify(object), BodyEncoding.keyframeBrotli, BodyEncoding.keyframeJson);
}

/**
 * Encodes `next` as a delta against `previous`, or as a keyframe when the delta would not be much smaller
 * (a delete-and-recreate, a rewrite of most fields).
 */
export function encodeVersion(previous: unknown, next: unknown): { encoding: BodyEncoding; body: Buffer } {
  const patch = compare(previous as object, next as object);
  const patchText = JSON.stringify(patch);
  const fullText = JSON.stringify(next);
  if (patchText.length * 2 > fullText.length) return pack(fullText, BodyEncoding.keyframeBrotli, BodyEncoding.keyframeJson);
  return pack(patchText, BodyEncoding.deltaBrotli, BodyEncoding.deltaJson);
}

export function isKeyframe(encoding: number): boolean {
  return encoding === BodyEncoding.keyframeBrotli || encoding === BodyEncoding.keyframeJson;
}

function unpack(encoding: number, body: Buffer): string {
  return encoding === BodyEncoding.keyframeBrotli || encoding === BodyEncoding.deltaBrotli
    ? brotliDecompressSync(body).toString('utf8')
    : body.toString('utf8');
}

/** Rebuilds a version from the previous one. `previous` is never mutated: versions share unchanged subtrees. */
export function decodeVersion(encoding: number, body: Buffer, previous: unknown): unknown {
  const text = unpack(encoding, body);
  if (isKeyframe(encoding)) return JSON.parse(text);
  if (previous === undefined) throw new Error('a delta body was read without the version it applies to');
  return applyPatchImmutable(previous as Json, JSON.parse(text) as Operation[]);
}

function unescapePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/**
 * Applies the add/remove/replace operations fast-json-patch's `compare` produces, copying only the containers on
 * each operation's path. Versions handed out earlier stay valid, and rebuilding a version costs O(patch · depth)
 * instead of a deep clone of the whole object.
 */
export function applyPatchImmutable(document: Json, operations: readonly Operation[]): Json {
  let root = document;
  for (const operation of operations) {
    const tokens = operation.path === '' ? [] : operation.path.slice(1).split('/').map(unescapePointer);
    if (tokens.length === 0) {
      if (operation.op === 'replace' || operation.op === 'add') root = (operation as { value: Json }).value;
      else throw new Error(`unsupported patch operation on the document root: ${operation.op}`);
      continue;
    }
    root = applyAt(root, tokens, 0, operation);
  }
  return root;
}

function applyAt(node: Json, tokens: readonly string[], index: number, operation: Operation): Json {
  const token = tokens[index]!;
  const last = index === tokens.length - 1;
  if (Array.isArray(node)) {
    const copy = node.slice();
    const position = token === '-' ? copy.length : Number(token);
    if (!Number.isInteger(position) || position < 0 || position > copy.length) throw new Error(`patch path ${operation.path} has a bad array index`);
    if (!last) {
      copy[position] = applyAt(copy[position] as Json, tokens, index + 1, operation);
    } else if (operation.op === 'add') {
      copy.splice(position, 0, (operation as { value: Json }).value);
    } else if (operation.op === 'replace') {
      copy[position] = (operation as { value: Json }).value;
    } else if (operation.op === 'remove') {
      copy.splice(position, 1);
    } else {
      throw new Error(`unsupported patch operation ${operation.op}`);
    }
    return copy;
  }
  if (node === null || typeof node !== 'object') throw new Error(`patch path ${operation.path} goes through a value that is not a container`);
  const copy: { [key: string]: Json } = { ...node };
  if (!last) {
    copy[token] = applyAt(copy[token] as Json, tokens, index + 1, operation);
  } else if (operation.op === 'add' || operation.op === 'replace') {
    copy[token] = (operation as { value: Json }).value;
  } else if (operation.op === 'remove') {
    delete copy[token];
  } else {
    throw new Error(`unsupported patch operation ${operation.op}`);
  }
  return copy;
}
