// The compiled read plan (compiled-read.ts) against the general path (Pothos, Prisma, graphql-js): for
// many generated selections over the compiled subset, the HTTP answers are equal byte for byte.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';

let t: TestServer;
let viewer: string;
let otherViewer: string;
const cursors = { jobs: [] as string[], attempts: [] as string[], events: [] as string[] };

/** A small seeded PRNG (mulberry32): a failure names its seed and can be run again. */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    chance: (p: number) => next() < p,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)],
    some: <T>(list: readonly T[], p: number): T[] => list.filter(() => next() < p),
  };
}
type Random = ReturnType<typeof random>;

const TEXTS = [
  null,
  '',
  'plain',
  'ünïcödé ✓ 日本語 🚀 \u2028 \u2029',
  'quotes " and \\ backslash / slash',
  'controls \u0001\u0008\u000b\u000c\u001f\n\r\t end',
  'x'.repeat(40_000) + ' é',
];
const AMOUNTS = ['0', '0.0011725', '12.5', '3', '0.1', '0.00000250', '0.000001'];
/** Amounts JavaScript writes otherwise than PostgreSQL (1e-8; 17 significant digits): the plan leaves them to the general path. */
const ODD_AMOUNTS = ['0.00000001', '1234567890.12345678'];
const amount = (r: Random) => (r.chance(0.03) ? r.pick(ODD_AMOUNTS) : r.pick(AMOUNTS));

async function seed(sql: pg.Client, projectId: string, templateId: string, model: string, jobs: number, r: Random) {
  for (let i = 0; i < jobs; i++) {
    // Every third job shares its createdAt with the one before: the order's tie-break (id) matters.
    const { rows } = await sql.query<{ id: string }>(
      `INSERT INTO "Job" (id, "projectId", "templateId", "templateVersion", spec, input, state, "idempotencyKey", "costUsd", "maxCostUsd",
         "createdBy", "attemptCount", feedback, "lastError", "createdAt", "updatedAt", "finishedAt")
       SELECT gen_random_uuid(), $1, $2, "templateVersion", spec, input, $3, $4, $5, CASE WHEN $6::numeric IS NOT NULL THEN GREATEST($5::numeric, $6::numeric) END, $7, $8, $9, $10,
         timestamptz '2026-01-01T00:00:00Z' + make_interval(secs => $11::float8), now(), $12
       FROM "Job" WHERE id = $13 RETURNING id`,
      [
        projectId,
        templateId,
        r.pick(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'AWAITING_REVIEW']),
        r.chance(0.3) ? `key-${i}-${r.pick(TEXTS.filter(Boolean))!.slice(0, 60)}` : null,
        amount(r),
        r.chance(0.5) ? null : amount(r),
        r.pick(['admin', 'ünïcödé "bot"', 'x\ny']),
        r.int(0, 4),
        r.pick(TEXTS),
        r.pick(TEXTS),
        (i - (i % 3 === 2 ? 1 : 0)) * 0.123,
        r.chance(0.5) ? null : new Date(Date.UTC(2026, 1, 1, 0, 0, 0, r.int(0, 999))),
        model,
      ],
    );
    const id = rows[0].id;
    const attempts = r.chance(0.3) ? 0 : r.int(1, 4);
    for (let n = 1; n <= attempts; n++) {
      await sql.query(
        `INSERT INTO "JobAttempt" (id, "jobId", number, state, executor, "startedAt", "finishedAt", "exitReason", "errorCode", "costUsd",
           "inputTokens", "outputTokens", feedback, "baseCommit")
         VALUES (gen_random_uuid(), $1, $2, $3, 'local', $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          id,
          n,
          r.pick(['RUNNING', 'SUCCEEDED', 'FAILED']),
          new Date(Date.UTC(2026, 0, 2, 3, 4, 5, r.int(0, 999))),
          r.chance(0.5) ? null : new Date(Date.UTC(2026, 0, 3)),
          r.pick(TEXTS),
          r.chance(0.5) ? null : 'E_TIMEOUT',
          amount(r),
          r.int(0, 100_000),
          r.int(0, 100_000),
          r.pick(TEXTS),
          r.chance(0.5) ? null : 'abc123',
        ],
      );
    }
    const events = r.chance(0.2) ? 0 : r.int(1, 12);
    for (let seq = 1; seq <= events; seq++) {
      await sql.query(
        `INSERT INTO "JobEvent" ("jobId", "projectId", seq, type, "fromState", "toState", message, actor, "attemptNumber", "createdAt")
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          id,
          projectId,
          seq,
          r.pick(['STATE_CHANGED', 'LOG']),
          r.chance(0.5) ? null : 'QUEUED',
          r.chance(0.5) ? null : 'RUNNING',
          r.pick(TEXTS),
          r.pick(['worker', 'runner ✓']),
          r.chance(0.5) ? null : r.int(1, 3),
          new Date(Date.UTC(2026, 0, 4, 0, 0, seq, r.int(0, 999))),
        ],
      );
    }
  }
}

const JOB_COLUMNS = ['id', 'state', 'templateVersion', 'idempotencyKey', 'costUsd', 'maxCostUsd', 'attemptCount', 'feedback'];
const JOB_COLUMNS_2 = ['lastError', 'createdBy', 'createdAt', 'updatedAt', 'finishedAt', '__typename'];
const ATTEMPT_COLUMNS = ['id', 'number', 'state', 'executor', 'startedAt', 'finishedAt', 'exitReason', 'errorCode', 'costUsd'];
const ATTEMPT_COLUMNS_2 = ['inputTokens', 'outputTokens', 'feedback', 'baseCommit', '__typename'];
const EVENT_COLUMNS = [
  'id',
  'seq',
  'jobId',
  'type',
  'fromState',
  'toState',
  'message',
  'actor',
  'attemptNumber',
  'createdAt',
  '__typename',
];
const TEMPLATE_COLUMNS = [
  'id',
  'slug',
  'version',
  'name',
  'description',
  'requiresReview',
  'maxAttempts',
  'timeoutSeconds',
  'createdAt',
  'updatedAt',
];
const PAGE_INFO = ['hasNextPage', 'hasPreviousPage', 'startCursor', 'endCursor', '__typename'];

/** One generated request: a document over the compiled subset (now and then one field outside it) and its variables. */
function generate(r: Random): { query: string; variables: Record<string, unknown> } {
  const variables: Record<string, unknown> = {};
  const defs: string[] = [];
  const fragments: string[] = [];
  let n = 0;
  const variable = (type: string, value: unknown) => {
    const name = `v${++n}`;
    defs.push(`$${name}: ${type}`);
    variables[name] = value;
    return `$${name}`;
  };
  const alias = (name: string) => (r.chance(0.15) ? `a${++n}: ${name}` : name);
  const directive = () => {
    if (!r.chance(0.15)) return '';
    const which = r.pick(['skip', 'include']);
    return ` @${which}(if: ${r.chance(0.5) ? String(r.chance(0.5)) : variable('Boolean!', r.chance(0.5))})`;
  };
  const scalars = (names: string[]) =>
    r
      .some(names, 0.4)
      .map((f) => `${alias(f)}${directive()}`)
      .join(' ');
  const intArg = (name: string, lo: number, hi: number) => {
    if (!r.chance(0.7)) return '';
    const v = r.chance(0.1) ? null : r.int(lo, hi);
    return `${name}: ${r.chance(0.5) ? String(v) : variable('Int', v)}`;
  };
  const cursorArg = (pool: string[]) => {
    if (!r.chance(0.3)) return '';
    const v = r.chance(0.85)
      ? r.pick(pool)
      : r.pick(['bogus', 'R1BDOlM6bm90LWEtdXVpZA==', ...cursors.jobs.slice(0, 1), ...cursors.attempts.slice(0, 1)]);
    return `after: ${r.chance(0.5) ? JSON.stringify(v) : variable('String', v)}`;
  };
  const args = (...list: string[]) => {
    const present = list.filter(Boolean);
    return present.length ? `(${present.join(', ')})` : '';
  };
  const connection = (node: () => string, extra: string) => {
    const parts: string[] = [];
    if (r.chance(0.85)) {
      const edge = [r.chance(0.6) ? 'cursor' : '', r.chance(0.9) ? `node { ${node()} }` : '', r.chance(0.2) ? '__typename' : ''].filter(
        Boolean,
      );
      parts.push(`edges${directive()} { ${edge.join(' ') || 'cursor'} }`);
    }
    if (r.chance(0.5)) parts.push(`${alias('pageInfo')} { ${scalars(PAGE_INFO) || 'hasNextPage'} }`);
    if (r.chance(0.1)) parts.push('__typename');
    if (extra) parts.push(extra);
    if (parts.length === 0) parts.push('__typename');
    return parts.sort(() => r.next() - 0.5).join(' ');
  };
  const job = (): string => {
    const parts = [scalars(JOB_COLUMNS), scalars(JOB_COLUMNS_2)];
    if (r.chance(0.5)) parts.push(`${alias('template')} { ${scalars(TEMPLATE_COLUMNS) || 'slug'} }`);
    if (r.chance(0.5))
      parts.push(
        `${alias('attempts')}${args(intArg('first', 0, 5), cursorArg(cursors.attempts))} { ${connection(() => `${scalars(ATTEMPT_COLUMNS)} ${scalars(ATTEMPT_COLUMNS_2)} number`, '')} }`,
      );
    if (r.chance(0.6))
      parts.push(
        `${alias('events')}${args(intArg('first', 0, 15), intArg('afterSeq', -1, 6), cursorArg(cursors.events))} { ${connection(() => `${scalars(EVENT_COLUMNS)} seq`, '')} }`,
      );
    if (r.chance(0.15)) {
      const name = `F${++n}`;
      fragments.push(`fragment ${name} on Job { ${scalars(JOB_COLUMNS) || 'id'} }`);
      parts.push(`...${name}`);
    }
    if (r.chance(0.15)) parts.push(`... on Job${directive()} { ${scalars(JOB_COLUMNS_2) || 'state'} }`);
    if (r.chance(0.05)) parts.push('input'); // outside the subset: the general path answers
    return parts.filter(Boolean).join(' ') || 'id';
  };
  const roots: string[] = [];
  for (let i = r.int(1, 2); i > 0; i--) {
    const name = roots.length ? `j${i}: jobs` : alias('jobs');
    roots.push(`${name}${args(intArg('first', 0, 30), cursorArg(cursors.jobs))} { ${connection(job, '')} }`);
  }
  if (r.chance(0.1)) roots.push('__typename');
  const head = defs.length ? `(${defs.join(', ')})` : '';
  return { query: `query Read${head} { ${roots.join(' ')} } ${fragments.join(' ')}`, variables };
}

async function post(body: unknown, token = viewer) {
  const res = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

/** The answer with compiled reads on, then off, and whether the compiled plan answered it. */
async function bothWays(body: unknown, token = viewer) {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  let compiledStatements = 0;
  let otherStatements = 0;
  proto.query = function (this: unknown, ...a: unknown[]) {
    const q = a[0] as string | { text?: string };
    const text = typeof q === 'string' ? q : (q?.text ?? '');
    if (text.startsWith('SELECT CASE WHEN')) compiledStatements++;
    else if (!text.includes('"ApiToken"')) otherStatements++; // (a token's first use reads it)
    return original.apply(this, a);
  };
  let compiled;
  try {
    t.app.services.config.compiledReads = true;
    compiled = await post(body, token);
  } finally {
    proto.query = original;
  }
  t.app.services.config.compiledReads = false;
  const general = await post(body, token);
  t.app.services.config.compiledReads = true;
  // Answered by the plan alone: its statement ran, and nothing of the general path did.
  return { compiled, general, answeredCompiled: compiledStatements > 0 && otherStatements === 0 };
}

beforeAll(async () => {
  // A response budget some generated pages exceed (the 40 KB texts): the plan hands those to the general path.
  t = await startTestServer({ env: { AUTODEV_MAX_RESPONSE_BYTES: String(400_000) } });
  const created = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
  expect(created.errors).toBeUndefined();
  viewer = await t.token('VIEWER');
  const other = (otherViewer = await t.token('VIEWER', 'other'));
  const otherJob = await t.gql(
    CREATE_JOB,
    { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } },
    await t.token('OPERATOR', 'other'),
  );
  expect(otherJob.errors).toBeUndefined();
  const sql = new pg.Client({ connectionString: t.databaseUrl });
  await sql.connect();
  try {
    const model = created.data.createJob.id;
    const ids = async (projectSlug: string) =>
      (
        await sql.query<{ projectId: string; templateId: string }>(
          `SELECT p.id AS "projectId", t.id AS "templateId" FROM "Project" p JOIN "Template" t ON t."projectId" = p.id WHERE p.slug = $1 AND t.slug = 'triage-bug'`,
          [projectSlug],
        )
      ).rows[0];
    const mine = await ids('default');
    await seed(sql, mine.projectId, mine.templateId, model, 40, random(1));
    const theirs = await ids('other');
    await seed(sql, theirs.projectId, theirs.templateId, model, 5, random(2));
  } finally {
    await sql.end();
  }
  const all = await t.gql(
    `{ jobs(first: 60) { edges { cursor node { attempts(first: 10) { edges { cursor } } events(first: 20) { edges { cursor } } } } } }`,
    {},
    viewer,
  );
  expect(all.errors).toBeUndefined();
  for (const e of all.data.jobs.edges) {
    cursors.jobs.push(e.cursor);
    cursors.attempts.push(...e.node.attempts.edges.map((a: any) => a.cursor));
    cursors.events.push(...e.node.events.edges.map((a: any) => a.cursor));
  }
  const theirs = await t.gql(`{ jobs { edges { cursor } } }`, {}, other);
  cursors.jobs.push(theirs.data.jobs.edges[0].cursor); // another project's: BAD_USER_INPUT either way
}, 120_000);
afterAll(async () => {
  await t?.close();
});

describe('compiled reads', () => {
  it('answer 300 generated selections (fields, aliases, fragments, @skip/@include, first/after/afterSeq, pageInfo, cursors) byte for byte as the general path does', async () => {
    const seedValue = Number(process.env.COMPILED_READ_SEED ?? 20261128);
    const r = random(seedValue);
    let compiledCount = 0;
    const codes = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const body = generate(r);
      const { compiled, general, answeredCompiled } = await bothWays({ ...body, operationName: 'Read' });
      if (compiled.text !== general.text) {
        let at = 0;
        while (compiled.text[at] === general.text[at]) at++;
        throw new Error(
          `seed ${seedValue}, case ${i}: the answers differ at ${at}\n${JSON.stringify(body)}\ncompiled: …${compiled.text.slice(Math.max(0, at - 200), at + 200)}\ngeneral:  …${general.text.slice(Math.max(0, at - 200), at + 200)}`,
        );
      }
      expect({ status: compiled.status, type: compiled.type }).toEqual({ status: general.status, type: general.type });
      if (answeredCompiled) compiledCount++;
      for (const e of (JSON.parse(general.text) as { errors?: { extensions: { code: string } }[] }).errors ?? [])
        codes.set(e.extensions.code, (codes.get(e.extensions.code) ?? 0) + 1);
    }
    console.log(`compiled reads: ${compiledCount} of 300 generated requests answered by the compiled plan; errors of the rest:`, codes);
    // The budget and refused cursors were exercised (their answers came from the general path, compared above).
    expect(codes.get('QUERY_TOO_COMPLEX')).toBeGreaterThan(0);
    expect(codes.get('BAD_USER_INPUT')).toBeGreaterThan(0);
    // Most are in the subset; the rest (an unsupported field, a refused cursor, an amount JavaScript
    // writes otherwise) took the general path. Both counts matter: neither side may be empty.
    expect(compiledCount).toBeGreaterThan(100);
    expect(compiledCount).toBeLessThan(300);
  }, 240_000);

  it("answer as the general path does for another project's token, without a token, with a revoked one, and in a batch", async () => {
    const query = `query Read { jobs(first: 30) { pageInfo { hasNextPage endCursor } edges { cursor node { id state createdBy template { slug } events(first: 2) { edges { node { seq message } } } } } } }`;
    const theirs = await bothWays({ query }, otherViewer);
    expect(theirs.compiled.text).toBe(theirs.general.text);
    expect(theirs.answeredCompiled).toBe(true);
    expect(JSON.parse(theirs.compiled.text).data.jobs.edges).toHaveLength(6); // their 1 + 5, none of ours
    const anonymous = await bothWays({ query }, '');
    expect(anonymous.compiled.text).toBe(anonymous.general.text);
    expect(JSON.parse(anonymous.compiled.text).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const revoked = await t.token('VIEWER');
    const id = (await t.app.services.pool.query<{ id: string }>(`SELECT id FROM "ApiToken" ORDER BY "createdAt" DESC LIMIT 1`)).rows[0].id;
    expect((await bothWays({ query }, revoked)).answeredCompiled).toBe(true);
    const gone = await t.gql(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id });
    expect(gone.errors).toBeUndefined();
    const afterRevoke = await bothWays({ query }, revoked);
    expect(afterRevoke.compiled.text).toBe(afterRevoke.general.text);
    expect(JSON.parse(afterRevoke.compiled.text).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const small = query.replace(' message', '');
    const batch = await bothWays([{ query: small }, { query: small.replace('first: 30', 'first: 3') }]);
    expect(batch.compiled.text).toBe(batch.general.text);
    expect(batch.answeredCompiled).toBe(true);
    // GET (Yoga's other HTTP form) and a query over the WebSocket (graphql-ws serializes the result itself).
    const url = `${t.url}/graphql?query=${encodeURIComponent(small)}`;
    const viaGet = await fetch(url, { headers: { authorization: `Bearer ${viewer}` } });
    expect(await viaGet.text()).toBe(batch.general.text.slice(1, batch.general.text.indexOf(',{"data"')));
    const viaWs = await new Promise((resolve, reject) => {
      let last: unknown;
      t.ws(viewer).subscribe({ query: small }, { next: (r) => (last = r), error: reject, complete: () => resolve(last) });
    });
    expect(viaWs).toEqual(JSON.parse(batch.general.text)[0]);
  });
});
