import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fillPlaceholders, findPlaceholders, undeclaredPlaceholders } from './placeholders.ts';

describe('CrewAI placeholders', () => {
  it('fills {name} and nested {a.b} from the job input; other values as JSON; absent ones as empty', () => {
    const input = { title: 'CSV export', repo: { url: 'file:///r', ref: 'main' }, labels: ['a', 'b'], count: 3 };
    expect(fillPlaceholders('Implement {title} in {repo.url}@{repo.ref}; labels {labels}, {count}x; {missing}|{repo.none}', input)).toBe(
      'Implement CSV export in file:///r@main; labels ["a","b"], 3x; |',
    );
  });

  it('leaves JSON examples alone and writes {{name}} as a literal {name}', () => {
    const text = 'Answer like {"summary": "…", "files": [{"path": "a"}]} and keep {{title}} as is: {title}';
    expect(fillPlaceholders(text, { title: 'T' })).toBe('Answer like {"summary": "…", "files": [{"path": "a"}]} and keep {title} as is: T');
    expect(findPlaceholders(text)).toEqual(['title']);
  });

  it('lists each placeholder once, in order', () => {
    expect(findPlaceholders('{b} {a.c} {b} { a } {1x} {_ok-1}')).toEqual(['b', 'a.c', '_ok-1']);
  });

  it('finds the placeholders the input schema does not declare (nested through properties)', () => {
    const schema = {
      type: 'object',
      properties: { title: { type: 'string' }, repo: { type: 'object', properties: { url: { type: 'string' } } } },
    };
    expect(undeclaredPlaceholders('{title} {repo.url} {repo.ref} {tittle} {title.length}', schema)).toEqual([
      'repo.ref',
      'tittle',
      'title.length',
    ]);
    expect(undeclaredPlaceholders('{title}', undefined)).toEqual(['title']);
  });

  it('never reads inherited properties of the input', () => {
    expect(fillPlaceholders('{constructor}{toString}{title.length}', { title: 'abc' })).toBe('');
  });

  // Property: one pass. Whatever the values contain (braces, other placeholders' names), the result
  // is the text with each placeholder replaced by exactly its value, and no placeholder is left.
  it('fills every placeholder exactly once, whatever the values contain', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);
    const literal = fc.string({ maxLength: 12 }).map((s) => s.replace(/[{}]/g, ''));
    fc.assert(
      fc.property(
        fc.dictionary(name, fc.string({ maxLength: 20 }), { minKeys: 1, maxKeys: 5 }),
        fc.array(literal, { minLength: 1, maxLength: 6 }),
        (input, literals) => {
          const keys = Object.keys(input);
          const text = literals.map((l, i) => `${l}{${keys[i % keys.length]}}`).join('');
          const expected = literals.map((l, i) => `${l}${input[keys[i % keys.length]]}`).join('');
          expect(fillPlaceholders(text, input)).toBe(expected);
          expect(findPlaceholders(text).every((p) => keys.includes(p))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('changes no text without placeholders (JSON of any value)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        fc.pre(!/\{[A-Za-z_]/.test(text));
        expect(fillPlaceholders(text, { a: 'X' })).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});
