/**
 * A problem as an import keeps it: `FILE:LINE: why`, as a string of its own.
 *
 * A parser's problem often quotes its input (V8's JSON.parse message quotes the bad text), and a quote is a V8
 * "sliced string" that keeps the whole string it was cut from alive: the 1 MiB chunk the line was read in. An import
 * keeps up to a thousand problems, so a file with a bad line every few hundred kept nearly all of itself in the heap
 * (a 200 MB file peaked at 398 MiB RSS, the heap growing with the file). Encoding the text to UTF-16 and back makes a
 * flat copy that owns its characters, lone surrogates included (UTF-8 would replace them).
 */
export function problemText(file: string, line: number, problem: string): string {
  return ownCopy(`${file}:${line}: ${problem}`);
}

/** A flat copy of `text` that shares no memory with the string it was cut from. */
export function ownCopy(text: string): string {
  return Buffer.from(text, 'utf16le').toString('utf16le');
}
