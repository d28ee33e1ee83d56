/**
 * Non-watch records (reconcile, delivery, api, marker) are stored as a JSON payload. `kreplay check` over an hour's
 * session reads 2.4 million of them, and JSON.parse on the reading thread was its largest single cost (7 of 43 s).
 * A parallel read (parallel-read.ts) parses them on the worker thread instead and hands each one over as columns:
 * its shape (the keys and the type of each value, in order, sent once), and its values (numbers in a Float64Array;
 * strings either as offsets into the batch's text or, for the values that repeat, as an id in a dictionary sent once).
 * The reading thread rebuilds each record from its shape: no parsing, and every repeated string (a uid, a
 * controller, a group or kind) is one string instance for the whole read, so the Maps the fold and the detectors key
 * by them hash each once instead of once per record.
 *
 * The rebuilt record is the one JSON.parse gives: same keys in the same order, same values. What the columns cannot
 * say exactly (an array, a `__proto__` key) is not encoded: that record keeps its JSON text and is parsed as before.
 */

/** What one key's value is, in a shape. */
export const ValueTag = {
  /** A string in the batch text: two values, start and length. */
  text: 0,
  /** A string of the dictionary: one value, its id. */
  word: 1,
  number: 2,
  true: 3,
  false: 4,
  null: 5,
  /** An object: its keys follow, up to the matching `end`. */
  object: 6,
  end: 7,
} as const;
type ValueTag = (typeof ValueTag)[keyof typeof ValueTag];

/** A record's keys and value tags, depth first (an object's key, then its keys, then `end` with key ''). */
export interface Shape {
  readonly keys: readonly string[];
  readonly tags: readonly ValueTag[];
}

/** Strings kept in the dictionary, at most; later new ones travel as text. */
const MAX_WORDS = 100_000;
/** Longer strings travel as text: a dictionary entry pays off for short, repeated values. */
const MAX_WORD_LENGTH = 256;

/**
 * Values that are mostly unique (times, resourceVersions, messages) travel as text: in the dictionary they would
 * only fill it. Everything else (names, uids, controllers, verbs, reasons) repeats.
 */
function repeats(key: string): boolean {
  return !(key.endsWith('At') || key.endsWith('esourceVersion') || key.endsWith('esourceVersionBefore') || key.endsWith('esourceVersionAfter') || key.endsWith('essage'));
}

interface TrieNode {
  /** key → tag → next node */
  readonly next: Map<string, Map<number, TrieNode>>;
  shape: number;
}

const trieNode = (): TrieNode => ({ next: new Map(), shape: -1 });

/** The batch being filled: where encoded values and strings go. */
export interface ColumnSink {
  /** Appends a string to the batch text and returns its start. */
  text(value: string): number;
  /** Rolls the batch text back to `mark` (a record that could not be encoded). */
  textMark(): number;
  textRollback(mark: number): void;
}

/** A batch's text as the worker builds it: strings appended back to back, addressed by where they start. */
export class BatchText implements ColumnSink {
  private parts: string[] = [];
  private chars = 0;

  get length(): number {
    return this.chars;
  }

  text(value: string): number {
    const start = this.chars;
    this.parts.push(value);
    this.chars += value.length;
    return start;
  }

  textMark(): number {
    return this.parts.length;
  }

  textRollback(mark: number): void {
    while (this.parts.length > mark) this.chars -= this.parts.pop()!.length;
  }

  /** The whole text; the next batch starts empty. */
  take(): string {
    const text = this.parts.join('');
    this.parts = [];
    this.chars = 0;
    return text;
  }
}

/**
 * The worker's half: turns payloads into (shape id, values). Shapes and dictionary words are numbered in the order
 * they first appear; what is new since the last `takeNew()` must reach the reader before the rows that use it.
 */
export class PayloadEncoder {
  private readonly root = trieNode();
  private shapeCount = 0;
  private readonly words = new Map<string, number>();
  private newShapes: Shape[] = [];
  private newWords: string[] = [];
  values = new Float64Array(1 << 16);
  length = 0;
  private capacity = 1 << 16;
  /** Scratch for the shape being walked. */
  private readonly keys: string[] = [];
  private readonly tags: ValueTag[] = [];

  /**
   * Encodes one payload: its shape id, with its values appended at `this.values[start ..]`; -1 when it cannot be
   * encoded exactly (nothing appended then, and the caller sends the JSON text).
   */
  encode(payload: string, sink: ColumnSink): { shape: number; start: number } {
    const start = this.length;
    let value: unknown;
    try {
      value = JSON.parse(payload);
    } catch {
      // A damaged payload: the reader parses the text and reports it where it always has.
      return { shape: -1, start };
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return { shape: -1, start };
    const mark = sink.textMark();
    this.keys.length = 0;
    this.tags.length = 0;
    const node = this.walk(value as Record<string, unknown>, this.root, sink);
    if (node === undefined) {
      // Words the abandoned walk added stay: they are sent with the batch like any other.
      this.length = start;
      sink.textRollback(mark);
      return { shape: -1, start };
    }
    if (node.shape < 0) {
      node.shape = this.shapeCount++;
      this.newShapes.push({ keys: this.keys.slice(), tags: this.tags.slice() });
    }
    return { shape: node.shape, start };
  }

  /** Shapes and words first used since the last call. */
  takeNew(): { shapes: Shape[]; words: string[] } {
    const taken = { shapes: this.newShapes, words: this.newWords };
    this.newShapes = [];
    this.newWords = [];
    return taken;
  }

  /** Starts a new values buffer (the old one was handed over). */
  reset(): void {
    // The old buffer was transferred (its length reads 0 now): start again at the size it had grown to.
    this.values = new Float64Array(this.capacity);
    this.length = 0;
  }

  private push(value: number): void {
    if (this.length === this.values.length) {
      this.capacity = this.values.length * 2;
      const grown = new Float64Array(this.capacity);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  private step(node: TrieNode, key: string, tag: ValueTag): TrieNode {
    this.keys.push(key);
    this.tags.push(tag);
    let byTag = node.next.get(key);
    if (!byTag) node.next.set(key, (byTag = new Map()));
    let next = byTag.get(tag);
    if (!next) byTag.set(tag, (next = trieNode()));
    return next;
  }

  /** Walks an object's keys; undefined when something in it has no exact column form. */
  private walk(object: Record<string, unknown>, from: TrieNode, sink: ColumnSink): TrieNode | undefined {
    let node = from;
    // for-in over a JSON.parse result: its own keys, in the order JSON.parse gave them (integer keys first).
    for (const key in object) {
      if (key === '__proto__') return undefined;
      const value = object[key];
      switch (typeof value) {
        case 'string': {
          if (repeats(key) && value.length <= MAX_WORD_LENGTH) {
            let id = this.words.get(value);
            if (id === undefined && this.words.size < MAX_WORDS) {
              id = this.words.size;
              this.words.set(value, id);
              this.newWords.push(value);
            }
            if (id !== undefined) {
              node = this.step(node, key, ValueTag.word);
              this.push(id);
              break;
            }
          }
          node = this.step(node, key, ValueTag.text);
          this.push(sink.text(value));
          this.push(value.length);
          break;
        }
        case 'number':
          node = this.step(node, key, ValueTag.number);
          this.push(value);
          break;
        case 'boolean':
          node = this.step(node, key, value ? ValueTag.true : ValueTag.false);
          break;
        case 'object': {
          if (value === null) {
            node = this.step(node, key, ValueTag.null);
            break;
          }
          if (Array.isArray(value)) return undefined;
          const inner = this.walk(value as Record<string, unknown>, this.step(node, key, ValueTag.object), sink);
          if (inner === undefined) return undefined;
          node = this.step(inner, '', ValueTag.end);
          break;
        }
        default:
          return undefined;
      }
    }
    return node;
  }
}

/** The reader's half: the shapes and words heard so far, and rebuilding a record from its columns. */
export class PayloadDecoder {
  private readonly shapes: Shape[] = [];
  private readonly words: string[] = [];

  learn(shapes: readonly Shape[], words: readonly string[]): void {
    for (const shape of shapes) this.shapes.push(shape);
    for (const word of words) this.words.push(word);
  }

  /** The record of shape `shape` whose values start at `values[start]`, with `seq` set last (as parsePayload does). */
  decode(shape: number, values: Float64Array, start: number, text: string, seq: number): Record<string, unknown> {
    const { keys, tags } = this.shapes[shape]!;
    const words = this.words;
    const root: Record<string, unknown> = {};
    let object = root;
    const parents: Record<string, unknown>[] = [];
    let at = start;
    for (let i = 0; i < tags.length; i++) {
      const key = keys[i]!;
      switch (tags[i]) {
        case ValueTag.text: {
          const from = values[at]!;
          object[key] = text.substring(from, from + values[at + 1]!);
          at += 2;
          break;
        }
        case ValueTag.word:
          object[key] = words[values[at++]!];
          break;
        case ValueTag.number:
          object[key] = values[at++];
          break;
        case ValueTag.true:
          object[key] = true;
          break;
        case ValueTag.false:
          object[key] = false;
          break;
        case ValueTag.null:
          object[key] = null;
          break;
        case ValueTag.object: {
          const child: Record<string, unknown> = {};
          object[key] = child;
          parents.push(object);
          object = child;
          break;
        }
        default:
          object = parents.pop()!;
      }
    }
    root['seq'] = seq;
    return root;
  }
}
