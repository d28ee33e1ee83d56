/**
 * Cluster strings (names, annotations, messages, user agents) reach a terminal in `show`, `check` and the TUI. A
 * terminal acts on control characters: ESC starts sequences that recolour, move the cursor, retitle the window or
 * (OSC 52) write the clipboard; CR and backspace overwrite what was printed; bidi overrides reorder it (Trojan
 * Source, CVE-2021-42574). This is the one function every one of those outputs passes cluster text through: each
 * such character becomes its visible escape (`\x1b`, `\u202e`), so the text reads as what it is and does nothing.
 * Idempotent: its output holds none of the characters it escapes.
 */
export function terminalText(text: string): string {
  // Fast path: almost every string is plain.
  if (!needsEscape(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += text[i]! + text[i + 1]!;
        i += 1;
        continue;
      }
    }
    out += isUnsafe(code) ? escapeOf(code) : text[i]!;
  }
  return out;
}

function needsEscape(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code >= 0x20 && code < 0x7f) continue;
    if (isUnsafe(code)) return true;
  }
  return false;
}

/** C0, DEL, C1, the bidi embeddings, overrides, isolates and marks, and any surrogate (pairs are let through above). */
function isUnsafe(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    (code >= 0xd800 && code <= 0xdfff)
  );
}

function escapeOf(code: number): string {
  if (code === 0x0a) return '\\n';
  if (code === 0x09) return '\\t';
  if (code === 0x0d) return '\\r';
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}
