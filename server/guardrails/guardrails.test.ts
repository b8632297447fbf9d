import { describe, expect, it } from 'vitest';
import { compile } from '../json-schema/ajv.ts';
import { checkOutput, guardrailsPassed, violations } from './check-output.ts';
import { loadSeedTemplates } from '../templates/load-seed-templates.ts';
import { validateJobInput } from './validate-input.ts';
import { validateTemplateDefinition } from './validate-template.ts';
import { ONE_COMPLETION_FEATURE } from '../test/fixtures.ts';

const seeds = await loadSeedTemplates();
const triage = seeds.find((s) => s.slug === 'triage-bug')!;
// Its input schema (arrays, enums) and file-list output exercise the validators.
const feature = ONE_COMPLETION_FEATURE;

describe('template definitions', () => {
  it('accepts every seeded template, and the one-completion fixture', () => {
    expect(seeds.map((s) => s.slug).sort()).toEqual(['fix-failing-tests', 'implement-feature', 'triage-bug', 'write-unit-tests']);
    for (const s of [...seeds, feature]) expect(validateTemplateDefinition(s).ok).toBe(true);
  });

  it('refuses an input schema that is not a valid JSON Schema, saying so', () => {
    const r = validateTemplateDefinition({ ...triage, inputSchema: { type: 'object', properties: { title: { type: 'strnig' } } } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/`inputSchema` is not a valid JSON Schema/);
  });

  it('refuses a task that references an unknown agent, naming both', () => {
    const tasks = triage.crew.tasks.map((t, i) => (i === 1 ? { ...t, agent: 'coder' } : t));
    const r = validateTemplateDefinition({ ...triage, crew: { ...triage.crew, tasks } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('names unknown agent `coder` (task `classify`)');
  });

  it('refuses context that points at a later task, and duplicate ids', () => {
    const tasks = [{ ...triage.crew.tasks[0], context: ['classify'] }, triage.crew.tasks[1], triage.crew.tasks[1]];
    const r = validateTemplateDefinition({ ...triage, crew: { ...triage.crew, tasks } });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toContain('`classify`, which is not an earlier task');
      expect(r.message).toContain('repeats task id `classify`');
    }
  });

  it('refuses unknown fields and bad slugs with the field named', () => {
    const r = validateTemplateDefinition({ ...triage, slug: 'Bad Slug', color: 'red' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.map((e) => e.field)).toEqual(expect.arrayContaining(['slug', 'color']));
    }
  });
});

describe('job input', () => {
  it('names the offending fields: wrong type, missing, enum, nested array item', () => {
    const r = validateJobInput(feature.inputSchema, { repository: 'a/b', title: 42, language: 'cobol', constraints: ['ok', 7] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual(
      expect.arrayContaining([
        { field: 'title', message: 'must be a string' },
        { field: 'specification', message: 'is required' },
        { field: 'language', message: 'must be one of "typescript", "python", "go"' },
        { field: 'constraints[1]', message: 'must be a string' },
      ]),
    );
    expect(r.message).toMatch(/^Job input is invalid: .*`title` must be a string/);
  });

  it('accepts a valid input for each seeded template', () => {
    expect(validateJobInput(triage.inputSchema, { title: 'Crash on pay', report: 'It crashes when I pay.' })).toEqual({ ok: true });
  });

  it('compiles a schema once', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    expect(compile(schema)).toBe(compile(JSON.parse(JSON.stringify(schema))));
  });
});

describe('output guardrails', () => {
  const clean = {
    severity: 'low',
    category: 'ui',
    summary: 's',
    likelyCause: 'c',
    reproductionSteps: ['one'],
    suggestedOwner: 'web',
    labels: [],
  };

  it('pass for a schema-valid, small, clean output', async () => {
    const results = await checkOutput(triage.outputSchema, clean);
    expect(results.map((r) => r.name)).toEqual(['output-schema', 'output-size', 'no-secrets']);
    expect(guardrailsPassed(results)).toBe(true);
  });

  it.each([
    ['an AWS access key id', 'AKIAIOSFODNN7EXAMPLE', 'AWS access key id'],
    ['a private key', '-----BEGIN RSA PRIVATE KEY-----\nMIIEow…', 'private key'],
    ['a GitHub token', 'ghp_' + 'a'.repeat(36), 'GitHub token'],
    ['an OpenAI-style key', 'sk-proj-' + 'b'.repeat(40), 'OpenAI-style API key'],
  ])('fail no-secrets for %s inside a file, naming where but never echoing it', async (_, secret, kind) => {
    const output = { summary: 's', plan: ['p'], tests: [], files: [{ path: 'a.ts', content: `const k = "${secret}";` }] };
    const failed = violations(await checkOutput(feature.outputSchema, output));
    expect(failed.map((f) => f.name)).toEqual(['no-secrets']);
    expect(failed[0].message).toContain(kind);
    expect(failed[0].message).toContain('files[0].content');
    expect(JSON.stringify(failed)).not.toContain(secret);
  });

  it('fail output-size past the limit, and output-schema with the fields named', async () => {
    const big = { ...clean, summary: 'x'.repeat(2000) };
    expect(violations(await checkOutput(triage.outputSchema, big, { maxOutputBytes: 1000 })).map((f) => f.name)).toEqual(['output-size']);
    const bad = violations(await checkOutput(triage.outputSchema, { ...clean, severity: 'meh' }));
    expect(bad[0].name).toBe('output-schema');
    expect(bad[0].message).toContain('`severity` must be one of');
  });
});
