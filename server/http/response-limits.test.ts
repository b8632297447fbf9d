import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../auth/tokens.ts';
import { startAutodevProcess, type AutodevProcess } from '../test/autodev-process.ts';
import { createTestDatabase } from '../test/database.ts';
import { gqlRequest } from '../test/harness.ts';

// The amplification attack of issue 16 against a real API process (its RSS is its own): 120 jobs
// whose inputs are 255 KiB each, and one VIEWER query of 20 aliases × jobs(first: 100) { input }.
const JOBS = 120;
let api: AutodevProcess;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let viewer: string;
const admin = generateSecret();

const gql = (query: string, variables?: Record<string, unknown>, token: string = viewer) => gqlRequest(api.url!, query, variables, token);
const memory = () => {
  const status = readFileSync(`/proc/${api.child.pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)![1]);
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
};

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startAutodevProcess('api', { DATABASE_URL: db.url, AUTODEV_ADMIN_TOKEN: admin, AUTODEV_SIGNING_KEY: 'k' }); // default limits: 16 MiB, 20,000 rows
  const triage = await gql(`{ template(slug: "triage-bug") { crew outputSchema } }`, {}, admin);
  const upsert = await gql(
    `mutation($input: TemplateInput!) { upsertTemplate(input: $input) { slug } }`,
    {
      input: {
        slug: 'blob',
        name: 'Blob',
        crew: triage.data.template.crew,
        outputSchema: triage.data.template.outputSchema,
        inputSchema: { type: 'object', properties: { blob: { type: 'string' }, title: { type: 'string' } } },
      },
    }, // title: the triage crew's placeholder
    admin,
  );
  expect(upsert.errors).toBeUndefined();
  const created = await gql(
    `mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`,
    { input: { templateSlug: 'blob', input: { blob: 'x'.repeat(255 * 1024) } } },
    admin,
  );
  expect(created.errors).toBeUndefined();
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  await sql.query(
    `INSERT INTO "Job" (id, "projectId", "templateId", "templateVersion", spec, input, "createdBy")
     SELECT gen_random_uuid(), "projectId", "templateId", "templateVersion", spec, input, "createdBy" FROM "Job", generate_series(2, $2) WHERE id = $1`,
    [created.data.createJob.id, JOBS],
  );
  await sql.end();
  viewer = (await gql(`mutation { createApiToken(input: { name: "looker", role: VIEWER }) { secret } }`, {}, admin)).data.createApiToken
    .secret;
}, 120_000);
afterAll(async () => {
  await api?.kill('SIGTERM');
  await db?.drop();
});

const ATTACK = `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: jobs(first: 100) { edges { node { input } } }`).join(' ')} }`;

describe('response limits', () => {
  it('refuses the 20 × jobs(first: 100) { input } query with QUERY_TOO_COMPLEX naming the limit, fast and without holding the data; three at once leave /healthz answering', async () => {
    expect(ATTACK.length).toBeGreaterThan(1000);
    // The same query asking for ids only, first: the process is warm and there is a figure to compare with.
    const idsOnly = Date.now();
    const plain = await gql(ATTACK.replaceAll('input', 'id'));
    expect(plain.errors).toBeUndefined();
    const idsOnlyMs = Date.now() - idsOnly;
    const before = memory();
    const started = Date.now();
    const res = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${viewer}` },
      body: JSON.stringify({ query: ATTACK }),
    });
    const body = await res.text();
    const ms = Date.now() - started;
    const json = JSON.parse(body);
    expect(json.errors).toHaveLength(1);
    expect(json.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(json.errors[0].message).toContain('the limit of 16 MiB per request');
    expect(body.length).toBeLessThan(2000);

    const three = Date.now();
    const health = (async () => {
      const h = Date.now();
      const r = await fetch(`${api.url}/healthz`);
      return { status: r.status, ms: Date.now() - h };
    })();
    const all = await Promise.all(Array.from({ length: 3 }, () => gql(ATTACK)));
    const threeMs = Date.now() - three;
    for (const r of all) expect(r.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    const h = await health;
    expect(h.status).toBe(200);
    const after = memory();
    console.log(
      `amplification: 1 attack query refused in ${ms} ms with ${body.length} response bytes; 3 at once refused in ${threeMs} ms, /healthz ${h.ms} ms; the same query asking for ids only answers in ${idsOnlyMs} ms; RSS ${before.rssMiB.toFixed(0)} → ${after.rssMiB.toFixed(0)} MiB, peak ${after.peakMiB.toFixed(0)} MiB (peak before ${before.peakMiB.toFixed(0)} MiB)`,
    );
    expect(after.peakMiB - before.rssMiB).toBeLessThan(200);
  }, 60_000);

  it('shares the limits of one request among the operations of a batch: 10 × jobs(first: 60) { input } (each 15 MB, under 16 MiB alone) is refused, not answered with 150 MB', async () => {
    const post = async (body: unknown) => {
      const res = await fetch(`${api.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${viewer}` },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, bytes: text.length, json: JSON.parse(text) };
    };
    const one = { query: '{ jobs(first: 60) { edges { node { id input } } } }' };
    const before = memory();
    const started = Date.now();
    const batch = await post(Array(10).fill(one));
    const ms = Date.now() - started;
    expect(batch.status).toBe(200);
    expect(batch.json).toHaveLength(10);
    for (const r of batch.json) {
      expect(r.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
      expect(r.errors?.[0].message).toContain('16 MiB per request, shared by the 10 operations of its batch');
    }
    expect(batch.bytes).toBeLessThan(10_000);
    const after = memory();
    // Rows too: 10 × jobs(first: 100) { events(first: 20) } is 6,300 objects each (jobs, edges, nodes, and per job
    // 20 events as connection, edges, nodes), 63,000 in all.
    const rows = await post(
      Array(10).fill({ query: '{ jobs(first: 100) { edges { node { id events(first: 20) { edges { node { seq } } } } } } }' }),
    );
    for (const r of rows.json)
      expect(r.errors?.[0].message).toMatch(
        /up to 6300 objects; the limit is 2000 \(this operation's part of the request's 20000, shared by the 10 operations of its batch\)/,
      );
    // The same operation alone is answered, and a batch of small ones is answered whole.
    const alone = await post(one);
    expect(alone.json.errors).toBeUndefined();
    expect(alone.json.data.jobs.edges).toHaveLength(60);
    const small = await post(Array(10).fill({ query: '{ jobs(first: 5) { edges { node { id input } } } }' }));
    for (const r of small.json) expect(r.errors).toBeUndefined();
    console.log(
      `batch amplification: 10 × 15 MB refused in ${ms} ms with ${batch.bytes} response bytes; RSS ${before.rssMiB.toFixed(0)} → ${after.rssMiB.toFixed(0)} MiB, peak ${after.peakMiB.toFixed(0)} MiB`,
    );
  }, 60_000);

  it('answers a query whose large fields fit (jobs(first: 20) { input } = 5 MiB)', async () => {
    const res = await gql(`{ jobs(first: 20) { edges { node { id input } } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.jobs.edges).toHaveLength(20);
    expect(res.data.jobs.edges[0].node.input.blob).toHaveLength(255 * 1024);
  });

  it('refuses a request whose worst-case row count is over the limit before running it', async () => {
    const res = await gql(`{ jobs(first: 100) { edges { node { id events(first: 100) { edges { node { seq } } } } } } }`);
    expect(res.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(res.errors?.[0].message).toMatch(/up to 30300 objects; the limit is 20000 per request/);
    expect(res.data ?? null).toBeNull();
  });

  it("counts a template's checks and workspace as large fields: 20 × jobs(first: 100) { template { checks } } over 40 KB of checks is refused", async () => {
    // Found by the red-team pass: checks (up to 10 × 4,000 characters) were read with the row and not
    // counted, so this query answered 56 MB to a VIEWER.
    const triage = await gql(`{ template(slug: "blob") { crew inputSchema outputSchema } }`, {}, admin);
    const checks = Array.from({ length: 10 }, (_, i) => ({ name: `check-${i}`, command: `echo ${'x'.repeat(3990)}` }));
    const upsert = await gql(
      `mutation($input: TemplateInput!) { upsertTemplate(input: $input) { slug } }`,
      {
        input: {
          slug: 'blob',
          name: 'Blob',
          crew: triage.data.template.crew,
          inputSchema: triage.data.template.inputSchema,
          outputSchema: triage.data.template.outputSchema,
          checks,
        },
      },
      admin,
    );
    expect(upsert.errors).toBeUndefined();
    const one = await gql(`{ jobs(first: 1) { edges { node { template { checks } } } } }`);
    expect(one.errors).toBeUndefined();
    expect(one.data.jobs.edges[0].node.template.checks).toHaveLength(10);
    const attack = `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: jobs(first: 100) { edges { node { template { checks workspace } } } }`).join(' ')} }`;
    const res = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${viewer}` },
      body: JSON.stringify({ query: attack }),
    });
    const body = await res.text();
    const json = JSON.parse(body);
    expect(json.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(body.length).toBeLessThan(2000);
  });

  it('a page size over the maximum is BAD_USER_INPUT naming the maximum, for every paged field (never a silent cut)', async () => {
    const cases = [
      [`{ jobs(first: 1000) { edges { node { id } } } }`, 'jobs', 100],
      [`{ templates(first: 101) { edges { node { slug } } } }`, 'templates', 100],
      [`{ reviews(first: 5000) { edges { node { id } } } }`, 'reviews', 100],
      [`{ jobs(last: 101) { edges { node { id } } } }`, 'jobs', 100],
      [`query($n: Int) { jobs(first: $n) { edges { node { id } } } }`, 'jobs', 100],
      [`{ jobs(first: 1) { edges { node { events(first: 1001) { edges { node { seq } } } } } } }`, 'events', 1000],
      [`{ jobs(first: 1) { edges { node { attempts(last: 101) { edges { node { number } } } } } } }`, 'attempts', 100],
    ] as const;
    for (const [query, field, max] of cases) {
      const res = await gql(query, { n: 500 });
      expect(res.errors?.[0].extensions?.code, query).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0].message).toMatch(new RegExp(`\`${field}\\((first|last):`));
      expect(res.errors?.[0].message).toContain(`between 0 and ${max}`);
    }
    const ok = await gql(`{ jobs(first: 100) { edges { node { id } } } }`);
    expect(ok.data.jobs.edges).toHaveLength(100);
  });
});
