// Deeply nested requests: a document's brackets and the arrays/objects in its variables. graphql-js
// parses them, and JSON.stringify and Ajv walk them, by recursion; before the limit a 2,000-deep list
// literal, a 5,000-deep createJob input or a 2,000-deep `allOf` in a template's schema overflowed the
// stack and answered INTERNAL_SERVER_ERROR. Every depth over the limit must be a coded 4xx-class
// refusal, and every depth within it must work as before.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { documentNesting, MAX_NESTING, valueNesting } from './nesting-limit.ts';

describe('measuring nesting', () => {
  it('counts brackets of the document, not those inside strings, block strings or comments', () => {
    expect(documentNesting('{ a { b(x: [[1]]) } }')).toBe(5);
    expect(documentNesting('{ a(s: "{{{{[[[[", t: """ {{{ \\""" [[[ """) # {{{{{{\n }')).toBe(2);
    expect(documentNesting('"unterminated {{{{')).toBe(0);
  });
  it('counts arrays and objects of a value without recursion, stopping past the limit', () => {
    expect(valueNesting('x')).toBe(0);
    expect(valueNesting({ a: [1, { b: [] }] })).toBe(4);
    expect(valueNesting(JSON.parse('['.repeat(200_000) + ']'.repeat(200_000)), 10)).toBe(11);
  });
});

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ role: 'api', env: { AUTODEV_RATE_LIMIT_MUTATIONS_PER_MINUTE: '1000000' } });
  const crew = {
    process: 'sequential',
    agents: [{ id: 'a', role: 'r', goal: 'g', backstory: 'b', model: 'gpt-4o-mini' }],
    tasks: [{ id: 't', description: 'd', expectedOutput: 'e', agent: 'a' }],
  };
  const res = await t.gql('mutation($i: TemplateInput!) { upsertTemplate(input: $i) { slug } }', {
    i: { slug: 'anything', name: 'Anything', crew, inputSchema: { type: 'object' }, outputSchema: { type: 'object' } },
  });
  expect(res.errors).toBeUndefined();
});
afterAll(async () => {
  await t?.close();
});

const nested = (depth: number, kind: 'array' | 'object' | 'mixed') => {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    const array = kind === 'array' || (kind === 'mixed' && i % 2 === 0);
    open += array ? '[' : '{"k":';
    close = (array ? ']' : '}') + close;
  }
  return open + '0' + close;
};
/** The same value as a GraphQL literal (object keys unquoted). */
const literal = (json: string) => json.replace(/"k":/g, 'k:');

const CREATE = 'mutation($i: CreateJobInput!) { createJob(input: $i) { id } }';
const UPSERT = 'mutation($i: TemplateInput!) { upsertTemplate(input: $i) { slug } }';
const PLACES: Record<string, (value: string) => string> = {
  'createJob input (variable)': (v) =>
    `{"query":${JSON.stringify(CREATE)},"variables":{"i":{"templateSlug":"anything","input":{"x":${v}}}}}`,
  'createJob input (literal)': (v) =>
    JSON.stringify({ query: `mutation { createJob(input: { templateSlug: "anything", input: { x: ${literal(v)} } }) { id } }` }),
  'upsertTemplate inputSchema allOf (variable)': (v) =>
    `{"query":${JSON.stringify(UPSERT)},"variables":{"i":{"slug":"deep","name":"d","crew":{},"outputSchema":{},"inputSchema":${v
      .replace(/\[/g, '{"allOf":[')
      .replace(/\]/g, ']}')
      .replace(/0(?=[\]}])/, '{}')}}}}`,
  'upsertTemplate crew (variable)': (v) =>
    `{"query":${JSON.stringify(UPSERT)},"variables":{"i":{"slug":"deep","name":"d","inputSchema":{},"outputSchema":{},"crew":{"x":${v}}}}}`,
  'query argument (literal)': (v) =>
    JSON.stringify({ query: `{ jobs(filter: { templateSlug: ${literal(v)} }) { edges { node { id } } } }` }),
};

async function post(body: string) {
  const res = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminToken}` },
    body,
  });
  const text = await res.text();
  const parsed = JSON.parse(text);
  return {
    status: res.status,
    codes: ((parsed.errors ?? []) as { extensions?: { code?: string } }[]).map((e) => e.extensions?.code ?? 'none'),
    body: parsed,
  };
}

describe('deeply nested requests', () => {
  it('are refused with QUERY_TOO_COMPLEX or BAD_USER_INPUT at any depth over the limit, in every place, never a 5xx or INTERNAL_SERVER_ERROR', async () => {
    const seen: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(PLACES)),
        fc.constantFrom('array' as const, 'object' as const, 'mixed' as const),
        fc.oneof(fc.integer({ min: MAX_NESTING + 1, max: MAX_NESTING + 20 }), fc.integer({ min: 1000, max: 30_000 })),
        async (place, kind, depth) => {
          const { status, codes } = await post(PLACES[place](nested(depth, kind)));
          expect(status, `${place} ${kind} ${depth}`).toBeLessThan(500);
          expect(codes.length, `${place} ${kind} ${depth}: accepted`).toBeGreaterThan(0);
          for (const code of codes) expect(['QUERY_TOO_COMPLEX', 'BAD_USER_INPUT'], `${place} ${kind} ${depth}`).toContain(code);
          seen[codes.join()] = (seen[codes.join()] ?? 0) + 1;
        },
      ),
      { numRuns: 120, seed: 1127 },
    );
    console.log(`nesting: 120 requests over the limit, codes ${JSON.stringify(seen)}`);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  }, 120_000);

  it('work within the limit: a createJob input nested as deep as the limit allows is stored and read back', async () => {
    // The variable `i` and its `input` and `x` use 3 levels; the value fills the rest.
    const value = nested(MAX_NESTING - 3, 'mixed');
    const created = await post(PLACES['createJob input (variable)'](value));
    expect(created.body.errors).toBeUndefined();
    const read = await t.gql('query($id: ID!) { job(id: $id) { input } }', { id: created.body.data.createJob.id });
    expect(JSON.stringify(read.data.job.input)).toBe(`{"x":${value}}`);
  });
});
