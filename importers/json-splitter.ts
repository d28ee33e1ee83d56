/**
 * Splits a stream of text into JSON values without ever holding more than one value in memory.
 *
 * It accepts what kubectl and kube-apiserver actually write:
 * - values back to back, pretty-printed over many lines (`kubectl get -w -o json` prints each event with Go's
 *   json.MarshalIndent, four spaces) or one per line (`kubectl get --raw '...?watch=1'`, audit logs);
 * - a List (`kubectl get -o json`, an audit webhook's EventList): a top-level object with an `items` array. Its
 *   elements are emitted one by one as they complete, so a List of hundreds of megabytes streams; the envelope
 *   follows last, with `"items":[]`;
 * - a top-level JSON array: its elements are emitted one by one.
 *
 * The splitter only tracks structure (strings, escapes, bracket depth); JSON.parse checks the rest. It never
 * throws on bad input: it reports `{ line, problem }` and resynchronises on the next value. A value that was cut
 * off (a writer killed mid-object, then another appending to the same file) is recognised two ways, both sound
 * for the layouts kubectl and the API server write:
 * - a `{` in column 0 while a top-level object is open: Go's MarshalIndent indents everything nested, and
 *   one-value-per-line output never breaks a line inside a value;
 * - a `{` ending a line whose next line is indented one level only, while we are deeper than that: a pretty-printed
 *   value that began mid-line, right after the cut-off text (the indentation unit is learnt from the first value).
 */

export type SplitEvent =
  | { kind: 'value'; text: string; line: number }
  | { kind: 'error'; line: number; problem: string };

const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }
const OPEN_BRACKET = 0x5b; // [
const CLOSE_BRACKET = 0x5d; // ]
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const COLON = 0x3a;
const COMMA = 0x2c;
const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const BOM = 0xfeff;

/** Longest key we bother to remember: we only look for "items". */
const KEY_LIMIT = 8;

/** How much of a bad line a message quotes: enough to recognise it, never a whole line of secrets. */
const SNIPPET_LENGTH = 40;

export class JsonValueSplitter {
  private line = 1;
  private atLineStart = true;
  /** Bracket depth of the current top-level value (0 between values). */
  private depth = 0;
  private inString = false;
  private escaped = false;

  /** The current top-level value: '{', '[' or none. */
  private top: 0 | typeof OPEN_BRACE | typeof OPEN_BRACKET = 0;
  private topLine = 0;
  private topParts: string[] = [];
  private topCapturing = false;
  private topSegmentStart = 0;

  /** Depth at which list elements live (2 inside a top-level object's "items", 1 in a top-level array); 0: none. */
  private itemsDepth = 0;
  private inItem = false;
  /** Inside a list element that is not an object or array (reported once). */
  private scalarElement = false;
  private itemLine = 0;
  private itemParts: string[] = [];
  private itemSegmentStart = 0;

  /** Key tracking at depth 1 of a top-level object, to find "items". */
  private expectKey = false;
  private capturingKey = false;
  private keyText = '';
  private lastKey = '';
  private afterColonKey: string | null = null;

  /** Indentation tracking for the pretty-printed resync rule. */
  private indent = 0;
  private countingIndent = true;
  /** Indentation of depth 1, learnt from the first pretty-printed object; 0 until known. */
  private indentUnit = 0;
  /** The previous line ended with `{`. */
  private braceAtEol = false;

  /** Skipping a broken value until a new value starts. */
  private skipping = false;
  private skipLine = 0;
  private skipProblem = '';
  /** The start of a garbage line, collected for the message; null when not collecting. */
  private snippet: string | null = null;
  /** The last non-blank character of the previous chunk: a `{` ending a line may sit at a chunk boundary. */
  private previousTail = 0;

  push(chunk: string): SplitEvent[] {
    const events: SplitEvent[] = [];
    const length = chunk.length;
    this.topSegmentStart = 0;
    this.itemSegmentStart = 0;
    for (let i = 0; i < length; i += 1) {
      let c = chunk.charCodeAt(i);

      // Fast path through the bulk of a string: most of a Kubernetes object is string contents.
      if (this.inString && !this.escaped && !this.capturingKey && !this.skipping) {
        while (c !== QUOTE && c !== BACKSLASH && c !== NEWLINE) {
          i += 1;
          if (i === length) break;
          c = chunk.charCodeAt(i);
        }
        if (i === length) break;
      }

      if (this.skipping) {
        if (this.snippet !== null) {
          if (c === NEWLINE || this.snippet.length > SNIPPET_LENGTH) this.snippetDone();
          else {
            this.snippet += chunk[i];
            continue;
          }
        }
        if (c === NEWLINE) {
          this.newline(this.lastSignificant(chunk, i) === OPEN_BRACE);
          continue;
        }
        if (c === SPACE || c === TAB || c === CR) {
          this.blank(c);
          continue;
        }
        const lineStart = this.atLineStart;
        const braceAtEol = this.braceAtEol;
        this.atLineStart = false;
        this.countingIndent = false;
        this.braceAtEol = false;
        if (lineStart && (c === OPEN_BRACE || c === OPEN_BRACKET)) {
          this.endSkip(events, this.line - 1);
          this.startTop(c, i);
        } else if (braceAtEol && this.startsPrettyObject(c)) {
          this.endSkip(events, this.line - 1);
          this.restartPretty(i, this.line - 1);
          this.openString(); // c is the quote of the new object's first key
        }
        continue;
      }

      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
        } else if (c === BACKSLASH) {
          this.escaped = true;
        } else if (c === QUOTE) {
          this.inString = false;
          if (this.capturingKey) {
            this.capturingKey = false;
            this.lastKey = this.keyText;
          }
        } else if (c === NEWLINE) {
          // JSON strings cannot hold a raw newline: the value was cut off inside a string.
          this.startSkip(this.inItem ? this.itemLine : this.topLine, 'truncated JSON value (a string is not closed before the end of its line)');
          this.newline(this.lastSignificant(chunk, i) === OPEN_BRACE);
          continue;
        } else if (this.capturingKey && this.keyText.length < KEY_LIMIT) {
          this.keyText += chunk[i];
        }
        this.atLineStart = false;
        continue;
      }

      if (c === NEWLINE) {
        this.newline(this.braceAtEol || this.lastSignificant(chunk, i) === OPEN_BRACE);
        continue;
      }
      if (c === SPACE || c === TAB || c === CR) {
        // Fast path through indentation: pretty-printed JSON is a third spaces.
        let blanks = 0;
        for (; i < length; i += 1) {
          const next = chunk.charCodeAt(i);
          if (next === SPACE || next === TAB) blanks += 1;
          else if (next !== CR) break;
        }
        i -= 1;
        this.atLineStart = false;
        if (this.countingIndent) this.indent += blanks;
        continue;
      }
      const lineStart = this.atLineStart;
      const braceAtEol = this.braceAtEol;
      this.atLineStart = false;
      this.countingIndent = false;
      this.braceAtEol = false;

      if (this.depth === 0) {
        if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          this.startTop(c, i);
          continue;
        }
        if (c === BOM) continue;
        this.startSkip(this.line, 'not a JSON object');
        this.snippet = '';
        i -= 1; // the skipping branch collects this character into the snippet
        continue;
      }

      if (braceAtEol) {
        if (this.depth === 1 && this.indentUnit === 0 && this.top === OPEN_BRACE) {
          this.indentUnit = this.indent; // the first pretty-printed object tells the indentation unit
        } else if (this.depth > 1 && this.top === OPEN_BRACE && this.startsPrettyObject(c)) {
          // `{` ending a line, then a line indented one level only while we are deeper: a new pretty-printed
          // object began mid-line, right after a cut-off one.
          events.push({ kind: 'error', line: this.inItem ? this.itemLine : this.topLine, problem: `truncated JSON value (a new value starts at line ${this.line - 1} before it was closed)` });
          this.resetValue();
          this.restartPretty(i, this.line - 1);
          this.openString();
          continue;
        }
      }

      if (lineStart && c === OPEN_BRACE && this.top === OPEN_BRACE) {
        // A new top-level object while the previous one is still open: the previous one was cut off.
        events.push({ kind: 'error', line: this.inItem ? this.itemLine : this.topLine, problem: `truncated JSON value (a new value starts at line ${this.line} before it was closed)` });
        this.resetValue();
        this.startTop(c, i);
        continue;
      }

      if (this.itemsDepth !== 0 && this.depth === this.itemsDepth && !this.scalarElement && c !== COMMA && c !== OPEN_BRACE && c !== OPEN_BRACKET && c !== CLOSE_BRACKET) {
        events.push({ kind: 'error', line: this.line, problem: 'a list element is not a JSON object' });
        this.scalarElement = true;
      }

      switch (c) {
        case QUOTE:
          this.openString();
          break;
        case COLON:
          if (this.depth === 1 && this.top === OPEN_BRACE) this.afterColonKey = this.lastKey;
          break;
        case COMMA:
          if (this.depth === 1 && this.top === OPEN_BRACE) this.expectKey = true;
          if (this.depth === this.itemsDepth) this.scalarElement = false;
          this.afterColonKey = null;
          break;
        case OPEN_BRACE:
        case OPEN_BRACKET:
          if (c === OPEN_BRACKET && this.depth === 1 && this.top === OPEN_BRACE && this.afterColonKey === 'items') {
            // The items array of a List: stream its elements, keep `"items":[]` in the envelope.
            this.topParts.push(chunk.slice(this.topSegmentStart, i + 1));
            this.topCapturing = false;
            this.itemsDepth = 2;
          } else if (this.itemsDepth !== 0 && this.depth === this.itemsDepth) {
            this.inItem = true;
            this.itemLine = this.line;
            this.itemParts = [];
            this.itemSegmentStart = i;
          }
          this.afterColonKey = null;
          this.depth += 1;
          break;
        case CLOSE_BRACE:
        case CLOSE_BRACKET:
          this.depth -= 1;
          this.afterColonKey = null;
          if (this.inItem && this.depth === this.itemsDepth) {
            this.itemParts.push(chunk.slice(this.itemSegmentStart, i + 1));
            events.push({ kind: 'value', text: this.itemParts.join(''), line: this.itemLine });
            this.inItem = false;
            this.itemParts = [];
          } else if (this.itemsDepth !== 0 && this.depth === this.itemsDepth - 1) {
            // The items array (or the top-level array) closed.
            this.itemsDepth = 0;
            this.scalarElement = false;
            if (this.top === OPEN_BRACE) {
              this.topCapturing = true;
              this.topSegmentStart = i;
            }
          }
          if (this.depth === 0) {
            if (this.top === OPEN_BRACE) {
              this.topParts.push(chunk.slice(this.topSegmentStart, i + 1));
              events.push({ kind: 'value', text: this.topParts.join(''), line: this.topLine });
            }
            this.resetValue();
          }
          break;
        default:
          this.afterColonKey = null;
      }
    }
    if (this.topCapturing) this.topParts.push(chunk.slice(this.topSegmentStart));
    if (this.inItem) this.itemParts.push(chunk.slice(this.itemSegmentStart));
    const tail = this.lastSignificant(chunk, length);
    if (tail !== 0) this.previousTail = tail;
    return events;
  }

  /** Ends the input: a value still open is reported as truncated. */
  end(): SplitEvent[] {
    const events: SplitEvent[] = [];
    if (this.skipping) {
      this.endSkip(events, this.atLineStart ? this.line - 1 : this.line);
    } else if (this.depth > 0) {
      // Everything after the opening line belongs to the unclosed value, whatever it holds: say which lines it took.
      const first = this.inItem ? this.itemLine : this.topLine;
      const last = this.atLineStart ? this.line - 1 : this.line;
      const range = last > first ? ` (skipped lines ${first}-${last})` : '';
      events.push({ kind: 'error', line: first, problem: `truncated JSON value (the input ends before it is closed)${range}` });
    }
    this.resetValue();
    return events;
  }

  /** Lines read so far (the line the scanner is on). */
  get currentLine(): number {
    return this.line;
  }

  private newline(braceAtEol: boolean): void {
    this.line += 1;
    this.atLineStart = true;
    this.indent = 0;
    this.countingIndent = true;
    this.braceAtEol = braceAtEol;
  }

  private blank(c: number): void {
    this.atLineStart = false;
    if (this.countingIndent && c !== CR) this.indent += 1;
  }

  /** The last non-blank character before index i (looking into the previous chunk when needed); 0 if none. */
  private lastSignificant(chunk: string, i: number): number {
    for (let j = i - 1; j >= 0; j -= 1) {
      const c = chunk.charCodeAt(j);
      if (c !== SPACE && c !== TAB && c !== CR) return c === NEWLINE ? 0 : c;
    }
    return this.previousTail;
  }

  /** At the first character of a line after a `{` ended the previous one: does a depth-1 key start here? */
  private startsPrettyObject(c: number): boolean {
    return c === QUOTE && this.indentUnit > 0 && this.indent === this.indentUnit;
  }

  /** Starts a top-level object whose `{` ended the previous line; i is its first key's quote. */
  private restartPretty(i: number, braceLine: number): void {
    this.startTop(OPEN_BRACE, i);
    this.topLine = braceLine;
    this.topParts = [`{\n${' '.repeat(this.indent)}`];
  }

  private openString(): void {
    this.inString = true;
    if (this.depth === 1 && this.top === OPEN_BRACE && this.expectKey) {
      this.capturingKey = true;
      this.keyText = '';
      this.expectKey = false;
    }
    this.afterColonKey = null;
  }

  private startTop(c: typeof OPEN_BRACE | typeof OPEN_BRACKET, i: number): void {
    this.top = c;
    this.topLine = this.line;
    this.depth = 1;
    if (c === OPEN_BRACE) {
      this.topParts = [];
      this.topCapturing = true;
      this.topSegmentStart = i;
      this.expectKey = true;
    } else {
      this.topCapturing = false;
      this.itemsDepth = 1;
    }
  }

  private startSkip(line: number, problem: string): void {
    this.resetValue();
    this.skipping = true;
    this.skipLine = line;
    this.skipProblem = problem;
  }

  private snippetDone(): void {
    const text = this.snippet!.trimEnd();
    this.skipProblem += `: ${JSON.stringify(text.length > SNIPPET_LENGTH ? `${text.slice(0, SNIPPET_LENGTH)}…` : text)}`;
    this.snippet = null;
  }

  private endSkip(events: SplitEvent[], last: number): void {
    if (this.snippet !== null) this.snippetDone();
    const range = last > this.skipLine ? ` (skipped lines ${this.skipLine}-${last})` : '';
    events.push({ kind: 'error', line: this.skipLine, problem: `${this.skipProblem}${range}` });
    this.skipping = false;
  }

  private resetValue(): void {
    this.depth = 0;
    this.top = 0;
    this.inString = false;
    this.escaped = false;
    this.topParts = [];
    this.topCapturing = false;
    this.itemsDepth = 0;
    this.inItem = false;
    this.scalarElement = false;
    this.itemParts = [];
    this.expectKey = false;
    this.capturingKey = false;
    this.keyText = '';
    this.lastKey = '';
    this.afterColonKey = null;
  }
}
