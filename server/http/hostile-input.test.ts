// A corpus of malformed and hostile requests. Every one must be answered with a 4xx or a GraphQL
// error that has a code and a sentence — never a 5xx, never a crash — and nothing may leak or
// change that should not, with the server's memory flat across repeated runs.
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { TRIAGE_INPUT } from '../test/fixtures.ts';

let t: TestServer;
beforeAll(async () => {
  // The rate limits are lifted: this file is about what happens to the input itself.
  t = await startTestServer({ role: 'all', env: { AUTODEV_RATE_LIMIT_MUTATIONS_PER_MINUTE: '1000000', AUTODEV_EXECUTOR: 'inline' } });
});
afterAll(async () => {
  await t?.close();
});

/** `valid`: odd but legitimate (e.g. a token named `<script>`); answered with data, stored as text. */
type Case = { name: string; send(): Promise<Response>; valid?: boolean };
const NO_UUID = '00000000-0000-4000-8000-000000000000';
const INJECTIONS = [
  "' OR '1'='1' --",
  '"; DROP TABLE "Job"; --',
  '1; SELECT pg_sleep(5)',
  '{"$gt": ""}',
  '__proto__',
  '{"__proto__": {"admin": true}}',
  '../../../../etc/passwd',
  '<script>alert(1)</script>',
  '%s%s%s%n%x',
  '${jndi:ldap://example.invalid/a}',
  '\u0000\u0001\u001f',
  '\ud800 lone surrogate',
  'x'.repeat(100_000),
];

function raw(
  body: string | Uint8Array,
  headers: Record<string, string> = {},
  method = 'POST',
  token: string | null = t.adminToken,
): Promise<Response> {
  return fetch(`${t.url}/graphql`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: method === 'GET' || method === 'HEAD' ? undefined : (body as BodyInit),
  });
}
const op = (query: string, variables?: unknown) => () => raw(JSON.stringify({ query, variables }));

function corpus(): Case[] {
  const cases: Case[] = [];
  const add = (name: string, send: () => Promise<Response>, valid = false) => cases.push({ name, send, valid });

  // Bodies that are not a GraphQL request.
  const bodies = [
    '',
    '{',
    '}',
    'null',
    'true',
    '42',
    '"q"',
    '[]',
    '[1]',
    '[null]',
    '[[{"query":"{ viewer { role } }"}]]',
    '{"query":null}',
    '{"query":42}',
    '{"query":["{ viewer { role } }"]}',
    '{"query":"{ viewer { role } }","variables":[]}',
    '{"query":"{ viewer { role } }","variables":"x"}',
    '{"query":"{ viewer { role } }","operationName":5}',
    '{"query":"{ viewer { role } }","extensions":"x"}',
    '{"query":"{"}',
    '{"query":"}}}}"}',
    '{"query":"{ viewer { role } }"',
    '\ufeff{"query":"{ viewer { role } }"}',
    '{"query":"{ viewer\u0000 { role } }"}',
    `{"query":"${'{'.repeat(5000)}"}`,
  ];
  bodies.forEach((b, i) => add(`body #${i}: ${b.slice(0, 40)}`, () => raw(b), b === '[]')); // an empty batch has no results
  add('invalid UTF-8', () => raw(new Uint8Array([0x7b, 0x22, 0x71, 0xff, 0xfe, 0xfd, 0x22, 0x7d])));
  // Refused (BAD_USER_INPUT) even unused: nothing recursive may walk a variable nested over MAX_NESTING.
  add('JSON nested 900,000 deep (an unused variable)', () =>
    raw(`{"query":"{ viewer { role } }","variables":{"a":${'['.repeat(900_000)}${']'.repeat(900_000)}}}`),
  );
  add(
    'a list literal nested 2,000 deep',
    op(`{ jobs(filter: { templateSlug: ${'['.repeat(2000)}${']'.repeat(2000)} }) { edges { node { id } } } }`),
  );
  add('a createJob input nested 5,000 deep', () =>
    raw(
      `{"query":"mutation($i: JSON!) { createJob(input: { templateSlug: \\"triage-bug\\", input: $i }) { id } }","variables":{"i":${'['.repeat(5000)}${']'.repeat(5000)}}}`,
    ),
  );
  add('body of 3 MB', () => raw(JSON.stringify({ query: '{ viewer { role } }', variables: { pad: 'x'.repeat(3_000_000) } })));

  // Content types, methods, headers.
  add('text/plain', () => raw('{"query":"{ viewer { role } }"}', { 'content-type': 'text/plain' }));
  add(
    'form-urlencoded (GraphQL over HTTP allows it)',
    () => raw('query=%7B+viewer+%7B+role+%7D+%7D', { 'content-type': 'application/x-www-form-urlencoded' }),
    true,
  );
  add('multipart without parts', () => raw('--x--', { 'content-type': 'multipart/form-data; boundary=x' }));
  add('no content-type', () =>
    fetch(`${t.url}/graphql`, {
      method: 'POST',
      body: '{"query":"{ viewer { role } }"}',
      headers: { authorization: `Bearer ${t.adminToken}` },
    }),
  );
  for (const method of ['PUT', 'DELETE', 'PATCH']) add(`${method} /graphql`, () => raw('{"query":"{ viewer { role } }"}', {}, method));
  add('mutation over GET', () =>
    fetch(`${t.url}/graphql?query=${encodeURIComponent('mutation { cancelJob(id: "x") { id } }')}`, {
      headers: { authorization: `Bearer ${t.adminToken}` },
    }),
  );
  add('GET with a 12 KB query string', () => fetch(`${t.url}/graphql?query=${'a'.repeat(12_000)}`));
  add('GET /artifacts with a forged signature', () => fetch(`${t.url}/artifacts/${NO_UUID}?expires=99999999999999&sig=AAAA`));
  add('GET /artifacts path traversal', () => fetch(`${t.url}/artifacts/..%2f..%2fetc%2fpasswd`));
  for (const auth of [
    'Bearer ' + 'a'.repeat(8000),
    'Basic dXNlcjpwYXNz',
    'Bearer',
    'Bearer adv_',
    'bearer  adv_x y z',
    "Bearer ' OR 1=1 --",
  ]) {
    add(`authorization ${auth.slice(0, 30)}`, () => raw('{"query":"{ viewer { role } }"}', { authorization: auth }, 'POST', null));
  }

  // Shape: depth, aliases, fragments, directives, batches.
  add('1000 aliases', op(`{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: viewer { role }`).join(' ')} }`));
  add('fragment cycle', op('query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }'));
  add('1000 directives', op(`{ viewer { role ${'@include(if: true) '.repeat(1000)} } }`));
  add('deep nesting (review/job)', op(`{ job(id: "${NO_UUID}") { ${'review { job { '.repeat(30)} id ${'} } '.repeat(30)} } }`));
  add('batch of 50', () => raw(JSON.stringify(Array(50).fill({ query: '{ viewer { role } }' }))));
  add('empty batch', () => raw('[]'), true);
  add('unknown field', op('{ nope }'));
  add('unknown argument', op('{ viewer(x: 1) { role } }'));
  add('unknown type in variables', op('query($x: Nope) { viewer { role } }', { x: 1 }));
  add('two anonymous operations', op('{ viewer { role } } { viewer { role } }'));
  add('operationName not in document', () => raw(JSON.stringify({ query: 'query A { viewer { role } }', operationName: 'B' })));
  add('subscription over POST asking for JSON', () =>
    raw(JSON.stringify({ query: 'subscription { projectEvents { seq } }' }), { accept: 'application/graphql-response+json' }),
  );

  // Wrong types and values in createJob.
  const create = 'mutation($input: CreateJobInput!) { createJob(input: $input) { id } }';
  const badInputs: unknown[] = [
    { templateSlug: 5, input: TRIAGE_INPUT },
    { templateSlug: 'triage-bug', input: 'a string' },
    { templateSlug: 'triage-bug', input: null },
    { templateSlug: 'triage-bug' },
    { templateSlug: 'triage-bug', input: TRIAGE_INPUT, maxCostUsd: 'abc' },
    { templateSlug: 'triage-bug', input: TRIAGE_INPUT, maxCostUsd: -1 },
    { templateSlug: 'triage-bug', input: TRIAGE_INPUT, maxCostUsd: 1e308 },
    { templateSlug: 'triage-bug', input: TRIAGE_INPUT, idempotencyKey: {} },
    { templateSlug: 'triage-bug', input: TRIAGE_INPUT, extra: true },
    { templateSlug: 'triage-bug', input: { ...TRIAGE_INPUT, title: 12 } },
    { templateSlug: 'triage-bug', input: { pad: 'x'.repeat(300 * 1024) } },
    { templateSlug: 'triage-bug', input: JSON.parse('{"__proto__": {"polluted": true}}') },
    null,
    [],
  ];
  badInputs.forEach((input, i) => add(`createJob bad input #${i}`, op(create, { input })));

  // Invalid IDs wherever an ID is taken.
  const ids = [
    '',
    'x',
    "' OR 1=1 --",
    'a'.repeat(10_000),
    '00000000-0000-0000-0000-000000000000',
    NO_UUID,
    '{"$ne":null}',
    '\u0000',
    '../../etc',
    '-1',
  ];
  const idTaking = [
    'query($id: ID!) { job(id: $id) { id } }',
    'mutation($id: ID!) { cancelJob(id: $id) { id } }',
    'mutation($id: ID!) { approveReview(id: $id) { id } }',
    'mutation($id: ID!) { rejectReview(id: $id, comment: "no") { id } }',
    'mutation($id: ID!) { requestChanges(id: $id, feedback: "more") { id } }',
    'mutation($id: ID!) { revokeApiToken(id: $id) }',
  ];
  // A malformed or unknown id is simply not found: `job` answers null, mutations NOT_FOUND.
  for (const q of idTaking)
    for (const id of ids) add(`${q.slice(0, 40)} id=${id.slice(0, 20)}`, op(q, { id }), q.startsWith('query') && !id.includes('\u0000'));

  // Injection attempts in every string input.
  // [operation, variables, is the string legitimate there (free text stored as is, or a lookup that finds nothing)]
  const strings: [string, (s: string) => unknown, boolean?][] = [
    ['mutation($s: String!) { createJob(input: { templateSlug: $s, input: {} }) { id } }', (s) => ({ s })],
    ['mutation($s: String!) { createJob(input: { templateSlug: "triage-bug", input: {}, idempotencyKey: $s }) { id } }', (s) => ({ s })],
    [
      'mutation($i: JSON!) { createJob(input: { templateSlug: "triage-bug", input: $i }) { id } }',
      (s) => ({ i: { title: `T ${s.slice(0, 120)}`, report: `Report: ${s}` } }),
      true,
    ],
    ['mutation($s: String!) { createApiToken(input: { name: $s, role: VIEWER }) { tokenId } }', (s) => ({ s }), true],
    ['mutation($s: String!) { cancelJob(id: "' + NO_UUID + '", reason: $s) { id } }', (s) => ({ s })],
    ['query($s: String!) { template(slug: $s) { id } }', (s) => ({ s }), true],
    ['query($s: String!) { jobs(filter: { templateSlug: $s }) { edges { node { id } } } }', (s) => ({ s }), true],
    ['query($s: String!) { jobs(after: $s) { edges { node { id } } } }', (s) => ({ s })], // not a cursor of ours
  ];
  // NUL is refused everywhere (PostgreSQL cannot store it); 100,000 characters is over every
  // length limit of stored text. A lone surrogate is stored as U+FFFD in text columns (UTF-8
  // encoding replaces it) but refused inside JSON input (jsonb rejects the \ud800 escape).
  const legitimate = (q: string, s: string) =>
    !s.includes('\u0000') && (q.startsWith('query') || s.length <= 10_000) && !(q.includes('JSON') && /[\ud800-\udfff]/.test(s));
  for (const [q, vars, legit] of strings)
    for (const s of INJECTIONS) add(`${q.slice(0, 50)} ← ${s.slice(0, 20)}`, op(q, vars(s)), !!legit && legitimate(q, s));
  return cases;
}

async function runCorpus(cases: Case[]) {
  const outcomes: { name: string; status: number; codes: string[]; valid: boolean }[] = [];
  for (const c of cases) {
    const started = Date.now();
    let timer!: NodeJS.Timeout;
    const { res, text } = await Promise.race([
      c.send().then(async (r) => ({ res: r, text: await r.text() })),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${c.name}: no complete answer within 10 s`)), 10_000))),
    ]);
    clearTimeout(timer);
    if (Date.now() - started > 2000) console.log(`slow: ${c.name} ${Date.now() - started} ms`);
    let codes: string[] = [];
    try {
      const body = JSON.parse(text);
      const results = Array.isArray(body) ? body : [body];
      for (const r of results)
        for (const e of r?.errors ?? []) {
          expect(typeof e.message === 'string' && e.message.length > 0, `${c.name}: error without a message`).toBe(true);
          expect(typeof e.extensions?.code, `${c.name}: error without a code: ${JSON.stringify(e)}`).toBe('string');
          // No internals: stack frames, file paths, or PostgreSQL's own error text.
          expect(e.message, c.name).not.toMatch(
            /\n\s+at |node_modules|\.ts:\d+|syntax error at or near|violates .* constraint|relation "|invalid input syntax for/i,
          );
          codes.push(e.extensions.code);
        }
    } catch (err) {
      if ((err as Error).name === 'AssertionError') throw err;
      codes = [`non-JSON ${res.headers.get('content-type')}`];
    }
    outcomes.push({ name: c.name, status: res.status, codes, valid: !!c.valid });
  }
  return outcomes;
}

const gc = (() => {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

describe('a corpus of hostile requests', () => {
  it('gets 4xx or coded GraphQL errors only — zero 5xx — and leaves the server serving, unchanged, with flat memory', async () => {
    const cases = corpus();
    expect(cases.length).toBe(236); // the figure README.md and RELIABILITY.md give
    const count = async () =>
      (
        await t.app.services.pool.query(
          `SELECT (SELECT count(*) FROM "Template")::int AS templates, (SELECT count(*) FROM "Job")::int AS jobs`,
        )
      ).rows[0];
    const before = await count();

    const first = await runCorpus(cases);
    const fivexx = first.filter((o) => o.status >= 500);
    expect(fivexx).toEqual([]);
    // An internal error is a 5xx in disguise.
    expect(first.filter((o) => o.codes.includes('INTERNAL_SERVER_ERROR')).map((o) => o.name)).toEqual([]);
    // Hostile requests are refused (a 4xx, or errors with codes); legitimate-but-odd ones get data.
    expect(
      first.filter((o) => !o.valid && o.status < 400 && o.codes.length === 0).map((o) => o.name),
      'accepted without an error',
    ).toEqual([]);
    expect(
      first.filter((o) => o.valid && (o.status !== 200 || o.codes.length > 0)).map((o) => `${o.name}: ${o.status} ${o.codes.join(',')}`),
      'refused',
    ).toEqual([]);
    gc();
    const heapAfterFirst = process.memoryUsage().heapUsed;
    await runCorpus(cases);
    await runCorpus(cases);
    gc();
    const growthMiB = (process.memoryUsage().heapUsed - heapAfterFirst) / 2 ** 20;

    // Still serving; templates untouched; the jobs with hostile text in valid input were created as plain text.
    expect((await t.gql('{ viewer { role } }')).data.viewer.role).toBe('ADMIN');
    const after = await count();
    expect(after.templates).toBe(before.templates);
    const byStatus = first.reduce<Record<number, number>>((m, o) => ((m[o.status] = (m[o.status] ?? 0) + 1), m), {});
    const byCode = first.flatMap((o) => o.codes).reduce<Record<string, number>>((m, c) => ((m[c] = (m[c] ?? 0) + 1), m), {});
    console.log(
      `hostile corpus: ${cases.length} requests × 3 runs; 5xx: ${fivexx.length}; statuses ${JSON.stringify(byStatus)}; codes ${JSON.stringify(byCode)}; ` +
        `jobs created by valid requests with hostile strings: ${after.jobs - before.jobs}; heap growth over runs 2–3: ${growthMiB.toFixed(1)} MiB`,
    );
    expect(growthMiB).toBeLessThan(20);
  }, 180_000);
});
