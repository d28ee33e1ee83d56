import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultThresholds } from '../../model/check-config.js';
import { findingKindRegistry, findingKinds } from '../../model/index.js';

/** docs/findings.md is written by hand from the registry: this keeps it from drifting. */
const doc = readFileSync(new URL('../../docs/findings.md', import.meta.url), 'utf8');

describe('docs/findings.md', () => {
  it('documents every kind with the registry title, severity and summary', () => {
    for (const kind of findingKinds) {
      const info = findingKindRegistry[kind];
      expect(doc).toContain(`## ${kind}`);
      expect(doc).toContain(`**${info.title}** — ${info.severity}`);
      expect(doc).toContain(`| [\`${kind}\`](#${kind}) | ${info.severity} | ${info.summary} |`);
    }
  });

  it('documents every threshold with its default', () => {
    for (const [key, value] of Object.entries(defaultThresholds)) expect(doc).toMatch(new RegExp(`${key}: ${value}\\b`));
  });
});
