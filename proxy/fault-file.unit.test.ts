import { describe, expect, it } from 'vitest';
import { FaultFileError, parseFaultPlan } from './fault-file.js';

function problems(text: string): string[] {
  try {
    parseFaultPlan(text, 'faults.yaml');
  } catch (error) {
    if (error instanceof FaultFileError) return [...error.problems];
    throw error;
  }
  throw new Error('the plan parsed');
}

describe('fault files', () => {
  it('parses a plan with durations, defaults and every action', () => {
    const plan = parseFaultPlan(
      `seed: 3
rules:
  - { match: { resource: widgets, event: [DELETED] }, when: { count: 1 }, action: expire }
  - { match: { name: a }, action: delay, delay: 1500ms }
  - { match: { resource: configmaps, verb: [update, patch] }, when: { after: 5s, probability: 0.5 }, action: fail, code: 429 }
`,
      'faults.yaml',
    );
    expect(plan.seed).toBe(3);
    expect(plan.rules.map((r) => r.action)).toEqual(['expire', 'delay', 'fail']);
    expect(plan.rules[1]!.delay).toBe(1500);
    expect(plan.rules[2]!.when.after).toBe(5000);
    expect(parseFaultPlan('{}', 'empty.json')).toEqual({ seed: 1, rules: [] });
  });

  it('names the field and its line when a rule is wrong', () => {
    expect(problems('rules:\n  - action: delay\n')).toEqual(['rules[0].delay (line 2): a delay rule needs `delay` (e.g. 2s)']);
    expect(problems('rules:\n  - action: fail\n    code: 404\n')).toEqual(['rules[0].code (line 3): must be one of 409, 429, 500, 503, 504']);
    expect(problems('rules:\n  - action: explode\n')[0]).toMatch(/^rules\[0\]\.action \(line 2\): /);
    expect(problems('rules:\n  - action: drop\n    match: { resource: widgets, verb: update }\n')).toEqual(['rules[0].match.verb (line 3): drop acts on watch events: its verb can only be watch']);
    expect(problems('rules:\n  - action: drop\n    when: { after: 10s, before: 5s }\n')).toEqual(['rules[0].when.before (line 3): `after` must be earlier than `before`']);
    expect(problems('rules:\n  - action: drop\n    when: { after: 5 }\n')[0]).toMatch(/^rules\[0\]\.when\.after \(line 3\)/);
    expect(problems('rules:\n  - action: drop\n    mtach: {}\n')[0]).toMatch(/mtach/);
    expect(problems('rules: [\n')[0]).toMatch(/^line \d+, column \d+/);
    expect(problems('rules:\n  - action: stale-list\n    match: { event: ADDED }\n')).toEqual(['rules[0].match.event (line 3): stale-list acts on whole lists, not on events: drop `event`']);
    expect(problems('rules:\n  - action: timeout\n')).toEqual(['rules[0].delay (line 2): a timeout rule needs `delay` (e.g. 2s)']);
    expect(problems('rules:\n  - action: timeout\n    delay: 2s\n    match: { verb: watch }\n')).toEqual(['rules[0].match.verb (line 4): a watch is long-running and never times out: to break one use close or expire']);
    expect(parseFaultPlan('rules:\n  - { action: timeout, delay: 2s, match: { verb: [create, get] } }\n', 'f.yaml').rules[0]).toMatchObject({ action: 'timeout', delay: 2000 });
  });
});

describe('fault profiles', () => {
  it('every named profile is a valid plan, and fires what it names', async () => {
    const { FaultPlan, faultProfiles } = await import('../model/index.js');
    for (const [name, profile] of Object.entries(faultProfiles)) {
      const plan = FaultPlan.parse(profile);
      expect(plan.rules.length, name).toBeGreaterThan(0);
      expect(plan.rules.every((r) => r.name?.startsWith(`${name}:`))).toBe(true);
    }
    expect(FaultPlan.parse(faultProfiles['flaky-network']).rules.map((r) => r.action)).toEqual(expect.arrayContaining(['close', 'delay', 'duplicate', 'fail', 'timeout']));
  });
});
