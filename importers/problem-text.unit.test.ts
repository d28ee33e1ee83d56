import { describe, expect, it } from 'vitest';
import { ownCopy, problemText } from './problem-text.js';

describe('problemText', () => {
  it('formats FILE:LINE: why', () => {
    expect(problemText('in.ndjson', 7, 'not valid JSON')).toBe('in.ndjson:7: not valid JSON');
  });

  it('copies every UTF-16 code unit, lone surrogates and NULs included (a UTF-8 round trip would replace them)', () => {
    const text = `lone \ud800 and \udfff, nul \u0000, astral \u{1f600}, ÿ`;
    expect(ownCopy(text)).toBe(text);
    expect(ownCopy(text.slice(5, 6))).toBe('\ud800');
  });
});
