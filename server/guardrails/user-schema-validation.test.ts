import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cachedValidators, compileUserSchema, VALIDATOR_CACHE } from '../json-schema/ajv.ts';
import { linearFormats } from '../json-schema/linear-formats.ts';
import { loadSeedTemplates } from '../templates/load-seed-templates.ts';
import { validateJobInput } from './validate-input.ts';
import { validateTemplateDefinition } from './validate-template.ts';

const triage = (await loadSeedTemplates()).find((s) => s.slug === 'triage-bug')!;
// The triage crew's `{title}` placeholder needs `title` declared; these schemas are about patterns.
const withInputSchema = (inputSchema: any) =>
  validateTemplateDefinition({
    ...triage,
    inputSchema: { ...inputSchema, properties: { title: { type: 'string' }, ...inputSchema.properties } },
  });

function timed<T>(f: () => T): [T, number] {
  const t = performance.now();
  const r = f();
  return [r, performance.now() - t];
}

// A linear check of 64 KiB takes a few ms (under 100 ms on a 2-core machine at load 20); an
// exponential one takes 14 s at 31 characters and hours at 40. The bound sits far between the two.
const BOUND_MS = 1000;

describe('user patterns run in linear time', () => {
  it('validates ^(a+)+$ against 40 and 256 Ki characters in well under a second', () => {
    const schema = { type: 'object', properties: { name: { type: 'string', pattern: '^(a+)+$' } } };
    for (const n of [40, 256 * 1024]) {
      const [r, ms] = timed(() => validateJobInput(schema, { name: 'a'.repeat(n) + '!' }));
      expect(r.ok).toBe(false);
      expect(ms).toBeLessThan(BOUND_MS);
    }
    expect(validateJobInput(schema, { name: 'aaaa' }).ok).toBe(true);
  });

  it('keeps every generated evil pattern (nested quantifiers, overlapping alternation) under the bound, in pattern, patternProperties and propertyNames', () => {
    const atom = fc.constantFrom('a', '[a-z]', '\\w', '.', '(a?)', '(a|a)', '(a|ab)', '(?:a|aa)', '\\d', '[0-9a]');
    const evil = fc
      .tuple(
        atom,
        fc.constantFrom('+', '*', '{1,20}'),
        fc.constantFrom('+', '*', '{2,}'),
        fc.boolean(),
        fc.constantFrom('$', '!$', 'b$', ''),
      )
      .map(([a, q1, q2, anchored, tail]) => `${anchored ? '^' : ''}(${a}${q1})${q2}${tail}`);
    const input = fc.tuple(
      fc.constantFrom('a', '1', 'ab', 'aa', 'x'),
      fc.integer({ min: 20, max: 64 * 1024 }),
      fc.constantFrom('!', '', '\u0000', 'b'),
    );
    let worst = 0;
    fc.assert(
      fc.property(evil, input, (pattern, [unit, n, tail]) => {
        const text = unit.repeat(Math.ceil(n / unit.length)) + tail;
        for (const schema of [
          { type: 'string', pattern },
          { type: 'object', patternProperties: { [pattern]: { type: 'integer' } } },
          { type: 'object', propertyNames: { pattern } },
        ]) {
          expect(withInputSchema(schema).ok).toBe(true);
          const data = schema.type === 'string' ? text : { [text]: 'x' };
          const [, ms] = timed(() => validateJobInput(schema, data));
          worst = Math.max(worst, ms);
          expect(ms).toBeLessThan(BOUND_MS);
        }
      }),
      { numRuns: 60, seed: 16 },
    );
    console.log(`evil patterns: worst validation ${worst.toFixed(1)} ms`);
  });

  it('checks every format over adversarial inputs under the bound', () => {
    const formats = Object.keys(linearFormats);
    const unit = fc.constantFrom(
      'a',
      'a.',
      'a-',
      '0.',
      '1:',
      'a@',
      '~0/',
      '/a',
      '%20',
      '::',
      'aA1+/',
      'P1D',
      'a:',
      'a:a@',
      'T1',
      '{a',
      'a,',
    );
    const prefix = fc.constantFrom('', 'http://', 'a@', 'P', '#', '0', 'urn:');
    let worst = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...formats),
        prefix,
        unit,
        fc.integer({ min: 100, max: 16 * 1024 }),
        fc.constantFrom('!', ' ', '@', '..', ':'),
        (format, pre, u, n, tail) => {
          const [, ms] = timed(() => validateJobInput({ type: 'string', format }, pre + u.repeat(Math.ceil(n / u.length)) + tail));
          worst = Math.max(worst, ms);
          expect(ms).toBeLessThan(BOUND_MS);
        },
      ),
      { numRuns: 300, seed: 16 },
    );
    console.log(`formats: worst validation ${worst.toFixed(1)} ms`);
  });

  it('checks uniqueItems over 50,000 object items in linear time (ajv’s own takes minutes), still naming the duplicates', () => {
    const schema = { type: 'array', uniqueItems: true };
    const items = Array.from({ length: 50_000 }, (_, i) => ({ id: i, tags: [i % 7] }));
    const [ok, ms] = timed(() => validateJobInput(schema, items));
    expect(ok).toEqual({ ok: true });
    expect(ms).toBeLessThan(5 * BOUND_MS); // ajv's pairwise check: 1.25e9 comparisons here
    const dup = validateJobInput(schema, [{ a: 1, b: [2] }, { c: 3 }, { b: [2], a: 1 }]);
    expect(dup.ok).toBe(false);
    if (!dup.ok) expect(dup.message).toContain('items ## 0 and 2 are identical');
  });

  it('still accepts the JavaScript spellings JSON Schema authors use (\\uXXXX, named groups, \\d, \\w)', () => {
    const schema = { type: 'string', pattern: '^(?<word>[\\w\\u00e9-]+)\\u0020\\d{2,}$' };
    expect(withInputSchema(schema).ok).toBe(true);
    expect(validateJobInput(schema, 'caf\u00e9 42').ok).toBe(true);
    expect(validateJobInput(schema, 'cafe').ok).toBe(false);
  });
});

describe('patterns the server cannot run are refused at upsertTemplate, naming the field', () => {
  it.each([
    [
      'a backreference',
      { type: 'object', properties: { code: { type: 'string', pattern: '^(a)\\1$' } } },
      '`inputSchema.properties.code.pattern` is a pattern this server cannot run',
    ],
    [
      'a lookahead key',
      { type: 'object', patternProperties: { '^(?!x)': {} } },
      '`inputSchema.patternProperties["^(?!x)"]` is a pattern this server cannot run',
    ],
    [
      'a lookbehind deep inside',
      { type: 'object', properties: { list: { type: 'array', items: { anyOf: [{ pattern: '(?<=a)b' }] } } } },
      '`inputSchema.properties.list.items.anyOf[0].pattern`',
    ],
    [
      'a pattern over 1,000 characters',
      { type: 'string', pattern: 'a'.repeat(1001) },
      '`inputSchema.pattern` is a pattern this server cannot run: it has 1001 characters; the limit is 1000',
    ],
    [
      'a pattern whose repetitions cost seconds to compile',
      { type: 'string', pattern: 'a{1000}'.repeat(142) },
      'its repetition counts add up to more than 2000',
    ],
    [
      'patterns that cost too much together',
      {
        type: 'object',
        properties: Object.fromEntries(
          Array.from({ length: 6 }, (_, i) => [`f${i}`, { type: 'string', pattern: `[a-z]{950}[0-9]{950}${i}` }]),
        ),
      },
      '`inputSchema` has patterns that compile to',
    ],
  ])('%s', (_, schema, message) => {
    const r = withInputSchema(schema);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(message);
  });
});

describe('schema $id and $ref stay inside one schema', () => {
  const withId = (title: string) => ({
    $id: 'https://example.test/shared',
    title,
    type: 'object',
    properties: { n: { $ref: '#/definitions/n' }, again: { $ref: 'https://example.test/shared#/definitions/n' } },
    definitions: { n: { type: 'integer' } },
  });

  it('lets two schemas with the same $id (two projects, or two versions) both compile and validate', () => {
    expect(withInputSchema(withId('first')).ok).toBe(true);
    expect(withInputSchema(withId('second')).ok).toBe(true);
    expect(validateJobInput(withId('first'), { n: 1, again: 2 })).toEqual({ ok: true });
    expect(validateJobInput(withId('second'), { n: 'x' }).ok).toBe(false);
  });

  it('refuses a $ref to another schema’s $id, even one compiled before', () => {
    compileUserSchema(withId('first'));
    const r = withInputSchema({ type: 'object', properties: { n: { $ref: 'https://example.test/shared#/definitions/n' } } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('a `$ref` may only point inside the same schema');
  });
});

describe('compiled validators are bounded', () => {
  it('keeps at most the cache bound after thousands of distinct schemas, and the heap returns', () => {
    v8.setFlagsFromString('--expose-gc'); // a real collection, so the heap figure means retained memory
    const gc = vm.runInNewContext('gc') as () => void;
    const heap = () => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    const distinct = (i: number) => ({
      type: 'object',
      properties: { [`field${i}`]: { type: 'string', pattern: `^field${i}-[a-z]+$`, description: 'd'.repeat(2000) } },
    });
    for (let i = 0; i < VALIDATOR_CACHE.maxEntries; i++) compileUserSchema(distinct(i));
    const before = heap();
    const n = 2000;
    for (let i = VALIDATOR_CACHE.maxEntries; i < VALIDATOR_CACHE.maxEntries + n; i++) expect(withInputSchema(distinct(i)).ok).toBe(true);
    const after = heap();
    console.log(
      `validators: ${n} more schemas compiled; held ${cachedValidators().count}; heap ${(before / 2 ** 20).toFixed(1)} → ${(after / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(cachedValidators().count).toBeLessThanOrEqual(VALIDATOR_CACHE.maxEntries);
    expect(after - before).toBeLessThan(32 * 2 ** 20);
  });
});
