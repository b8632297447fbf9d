// Every argument of every query and mutation, and every field of their input objects, fed values
// at the edges of its type (generated from the schema, so a new argument is covered the day it is
// added): empty, huge, negative, control characters, lone surrogates, injections, impossible dates,
// long lists. Whatever the value, the answer is data or errors that each carry a code and a sentence
// — never INTERNAL_SERVER_ERROR, never a 5xx — and the server keeps serving.
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLInputType,
  type GraphQLObjectType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../schema/index.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { literal, NO_UUID, selectionOf } from '../test/schema-literals.ts';

let t: TestServer;
beforeAll(async () => {
  // The rate limits are lifted: this file is about what each value does, hundreds of requests.
  t = await startTestServer({ env: { AUTODEV_RATE_LIMIT_MUTATIONS_PER_MINUTE: '1000000' } });
});
afterAll(async () => {
  await t?.close();
});

const STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\u202e\u0007',
  "' OR '1'='1' --",
  '"; DROP TABLE "Job"; --',
  '__proto__',
  '../../etc/passwd',
  'x'.repeat(70_000),
  '𝕏'.repeat(5_000),
];
const HOSTILE: Record<string, unknown[]> = {
  ID: [...STRINGS, NO_UUID, NO_UUID.toUpperCase(), `${NO_UUID} `, '0', '-1', '1e400'],
  String: [...STRINGS, 'http://127.0.0.1:1/', 'https://example.invalid/\u0000', '*/1 * * * *', '61 25 32 13 8', 'Europe/Nowhere'],
  Int: [0, -1, 2147483647, -2147483648],
  Float: [0, -0, -1, 1e-300, 1e300, 1.7976931348623157e308, 123456789012345.67],
  Boolean: [true, false],
  JSON: [
    {},
    [],
    0,
    '',
    1e308,
    JSON.parse('{"__proto__": {"admin": true}}') as unknown,
    { a: '\u0000' },
    [[[[[[[[[[]]]]]]]]]],
    { ['x'.repeat(300)]: 1 },
  ],
  DateTime: ['0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '2026-02-30T00:00:00Z', '', '1970-01-01T00:00:00Z'],
};

/** Values at the edges of `type` (a list gets empty, long and hostile-item lists). */
function hostileValues(type: GraphQLInputType): unknown[] {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) {
    const items = hostileValues(inner.ofType);
    return [[], items.slice(0, 1), Array.from({ length: 1000 }, () => items[0]), items];
  }
  if (isEnumType(inner)) return inner.getValues().map((v) => v.name);
  if (isScalarType(inner)) return HOSTILE[inner.name] ?? [];
  return []; // an input object: its fields are fed one by one
}

interface Case {
  label: string;
  text: string;
  variables: { v: unknown };
}

/** For one root field: each argument, and each field of an input object argument, as `$v`, the rest minimal literals. */
function casesOf(kind: 'query' | 'mutation', root: GraphQLObjectType): Case[] {
  const cases: Case[] = [];
  for (const field of Object.values(root.getFields())) {
    const required = (except: string) =>
      field.args.filter((a) => a.name !== except && isNonNullType(a.type)).map((a) => [a.name, literal(a.type)] as const);
    for (const arg of field.args) {
      const others = required(arg.name);
      if (others.some(([, v]) => v === null)) continue;
      const rest = others.map(([n, v]) => `, ${n}: ${v}`).join('');
      const named = getNamedType(arg.type);
      const targets: { path: string; type: GraphQLInputType; argText: string }[] = [];
      if (isInputObjectType(named) && !isListType(isNonNullType(arg.type) ? arg.type.ofType : arg.type)) {
        for (const f of Object.values(named.getFields())) {
          const siblings = Object.values(named.getFields())
            .filter((g) => g !== f && isNonNullType(g.type) && g.defaultValue === undefined)
            .map((g) => [g.name, literal(g.type)] as const);
          if (siblings.some(([, v]) => v === null)) continue;
          const fields = [`${f.name}: $v`, ...siblings.map(([n, v]) => `${n}: ${v}`)].join(', ');
          targets.push({ path: `${arg.name}.${f.name}`, type: f.type, argText: `${arg.name}: { ${fields} }` });
        }
      } else {
        targets.push({ path: arg.name, type: arg.type, argText: `${arg.name}: $v` });
      }
      for (const target of targets) {
        for (const value of hostileValues(target.type)) {
          cases.push({
            label: `${field.name}(${target.path}) = ${JSON.stringify(value)?.slice(0, 40)}`,
            text: `${kind}($v: ${String(target.type)}) { ${field.name}(${target.argText}${rest})${selectionOf(field)} }`,
            variables: { v: value },
          });
        }
      }
    }
  }
  return cases;
}

describe('every argument and input field at the edges of its type', () => {
  it('answers data or coded errors with a sentence: never INTERNAL_SERVER_ERROR, never a 5xx', { timeout: 300_000 }, async () => {
    const cases = [...casesOf('query', schema.getQueryType()!), ...casesOf('mutation', schema.getMutationType()!)];
    // A generator that built little would prove little: the schema has dozens of arguments and input fields.
    expect(cases.length).toBeGreaterThan(500);
    const failures: string[] = [];
    const codes: Record<string, number> = {};
    for (const c of cases) {
      const res = await fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminToken}` },
        body: JSON.stringify({ query: c.text, variables: c.variables }),
      });
      const body = (await res.json().catch(() => null)) as { errors?: { message?: string; extensions?: { code?: string } }[] } | null;
      if (res.status >= 500 || !body) failures.push(`${c.label}: HTTP ${res.status}`);
      for (const e of body?.errors ?? []) {
        const code = e.extensions?.code ?? 'none';
        codes[code] = (codes[code] ?? 0) + 1;
        if (code === 'INTERNAL_SERVER_ERROR' || code === 'none' || !e.message || e.message.length < 10) {
          failures.push(`${c.label}: ${code} ${e.message?.slice(0, 120)}`);
        }
      }
    }
    console.log(`argument fuzz: ${cases.length} requests; error codes ${JSON.stringify(codes)}`);
    expect(failures).toEqual([]);
    // Still serving, with the admin token it started with.
    expect((await t.gql('{ viewer { role } }')).data.viewer.role).toBe('ADMIN');
  });
});
