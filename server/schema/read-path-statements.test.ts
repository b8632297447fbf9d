// The read path's SQL statements, counted: a later change cannot silently add queries to it. The
// compiled plan answers the benchmark's query; the general path (its reference and fallback) is bounded too.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';

// The figure `npm run bench` measures (bench/read-path.ts): jobs with their template, attempts and events.
const JOBS = `query Jobs { jobs(first: 50) { edges { node { id state costUsd createdAt template { slug }
  attempts { edges { node { number state costUsd startedAt finishedAt } } } events(first: 10) { edges { node { seq type message createdAt } } } } } } }`;

/** The statements any pg client of this process sends while `fn` runs (transaction control included). */
async function statementsDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  const sent: string[] = [];
  proto.query = function (this: unknown, ...args: unknown[]) {
    const q = args[0] as string | { text?: string };
    sent.push((typeof q === 'string' ? q : (q?.text ?? '')).replace(/\s+/g, ' ').slice(0, 400));
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    proto.query = original;
  }
  return sent;
}

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  for (let i = 0; i < 3; i++) {
    const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
    expect(res.errors).toBeUndefined();
  }
  // One attempt, so that the attempts relation has rows to read.
  await t.app.services.pool.query(
    `INSERT INTO "JobAttempt" (id, "jobId", number, state, executor, "startedAt") SELECT gen_random_uuid(), id, 1, 'RUNNING', 'local', now() FROM "Job" LIMIT 1`,
  );
});
afterAll(async () => {
  await t?.close();
});

describe('jobs(first: 50) with template, attempts and events', () => {
  it('is one SQL statement once the token is known (the compiled plan), one more the first time (the token)', async () => {
    const token = await t.token('VIEWER'); // never used yet: not remembered
    let first: any;
    const cold = await statementsDuring(async () => (first = await t.gql(JOBS, {}, token)));
    expect(first.errors).toBeUndefined();
    expect(first.data.jobs.edges).toHaveLength(3);
    expect(first.data.jobs.edges.some((e: any) => e.node.attempts.edges.length === 1)).toBe(true);
    expect(first.data.jobs.edges.every((e: any) => e.node.events.edges.length >= 1 && e.node.template.slug === 'triage-bug')).toBe(true);

    let second: any;
    const warm = await statementsDuring(async () => (second = await t.gql(JOBS, {}, token)));
    expect(second).toEqual(first);
    const show = (list: string[]) => list.map((s) => s.slice(0, 110)).join('\n  ');
    console.log(
      `jobs(first: 50) statements, token not yet known (${cold.length}):\n  ${show(cold)}\nand known (${warm.length}):\n  ${show(warm)}`,
    );
    expect(warm).toHaveLength(1);
    expect(warm[0]).toMatch(/^SELECT CASE WHEN .* AS body/);
    // The token's row is read the first time (its lastUsedAt is written too, not awaited: it may fall outside).
    expect(cold.filter((s) => s.startsWith('SELECT') && s.includes('"ApiToken"'))).toHaveLength(1);
    expect(cold.filter((s) => !s.includes('"ApiToken"'))).toHaveLength(1);
  });

  it('is two SQL statements on the general path (compiled reads off): the rows, and the event messages with their sizes', async () => {
    const token = await t.token('VIEWER');
    const compiled = await t.gql(JOBS, {}, token);
    t.app.services.config.compiledReads = false;
    try {
      let general: any;
      const warm = await statementsDuring(async () => (general = await t.gql(JOBS, {}, token)));
      expect(general).toEqual(compiled);
      expect(warm).toHaveLength(2);
      expect(warm[1]).toMatch(/octet_length\("message"\)/);
    } finally {
      t.app.services.config.compiledReads = true;
    }
  });
});
