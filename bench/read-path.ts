// 3. Read path: `jobs(first: 50)` with attempts and events under load, versus a hand-written
//    endpoint returning the same JSON from one SQL query; plus SQL statements per request.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createTestDatabase } from '../server/test/database.ts';
import { startTestServer } from '../server/test/harness.ts';
import { BENCH_LIMITS, addMinimalTemplate, profileWindow, createJobs, percentile, printTable, waitForTerminal } from './lib.ts';

const DURATION_MS = Number(process.env.BENCH_READ_MS ?? 5000);
const CONNECTIONS = 16;
const QUERY = `query Jobs { jobs(first: 50) { edges { node { id state costUsd createdAt template { slug }
  attempts { edges { node { number state costUsd startedAt finishedAt } } } events(first: 10) { edges { node { seq type message createdAt } } } } } } }`;

/** The part of the answer both endpoints are compared on. */
interface JobsPage {
  data: { jobs: { edges: { node: { id: string; state: string; attempts: { edges: unknown[] }; events: { edges: unknown[] } } }[] } };
}

const HANDWRITTEN_SQL = `
SELECT json_build_object('data', json_build_object('jobs', json_build_object('edges', COALESCE(json_agg(json_build_object('node', j.node) ORDER BY j."createdAt" DESC, j.id DESC), '[]'::json)))) AS body
FROM (
  SELECT j.id, j."createdAt", json_build_object(
    'id', j.id, 'state', j.state, 'costUsd', j."costUsd"::float8, 'createdAt', to_char(j."createdAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'template', json_build_object('slug', t.slug),
    'attempts', json_build_object('edges', (SELECT COALESCE(json_agg(json_build_object('node', json_build_object('number', a.number, 'state', a.state, 'costUsd', a."costUsd"::float8,
                   'startedAt', a."startedAt", 'finishedAt', a."finishedAt")) ORDER BY a.number), '[]'::json) FROM (SELECT * FROM "JobAttempt" a WHERE a."jobId" = j.id ORDER BY a.number LIMIT 20) a)),
    'events', json_build_object('edges', (SELECT COALESCE(json_agg(json_build_object('node', json_build_object('seq', e.seq, 'type', e.type, 'message', e.message, 'createdAt', e."createdAt")) ORDER BY e.seq), '[]'::json)
               FROM (SELECT * FROM "JobEvent" e WHERE e."jobId" = j.id ORDER BY e.seq LIMIT 10) e))
  ) AS node
  FROM "Job" j JOIN "Template" t ON t.id = j."templateId"
  WHERE j."projectId" = $1
  ORDER BY j."createdAt" DESC, j.id DESC LIMIT 50
) j`;

async function load(send: () => Promise<void>): Promise<{ rps: number; p99: number; p50: number; cpuMs: number }> {
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const end = Date.now() + DURATION_MS;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < end) {
        const t0 = performance.now();
        await send();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  // This process's CPU per request (server and client; PostgreSQL's is not in it): steadier than
  // req/s when other processes compete for the cores.
  return {
    rps: latencies.length / (DURATION_MS / 1000),
    p99: percentile(latencies, 99),
    p50: percentile(latencies, 50),
    cpuMs: (cpu.user + cpu.system) / 1000 / latencies.length,
  };
}

/** Counts statements sent to PostgreSQL by any pg client while `fn` runs. */
async function countStatements(fn: () => Promise<void>): Promise<number> {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  let n = 0;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const q = args[0] as string | { text?: string };
    const text = typeof q === 'string' ? q : (q?.text ?? '');
    if (!/^\s*(BEGIN|COMMIT|ROLLBACK|SELECT 1)\b/i.test(text)) n++;
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    proto.query = original;
  }
  return n;
}

export async function benchReadPath() {
  const db = await createTestDatabase();
  const t = await startTestServer({
    databaseUrl: db.url,
    role: 'all',
    env: { ...BENCH_LIMITS, AUTODEV_EXECUTOR: 'inline', AUTODEV_WORKER_CONCURRENCY: '8' },
  });
  try {
    await addMinimalTemplate(t);
    await waitForTerminal(t, await createJobs(t, 120, 8));
    const projectId = t.app.defaultProjectId;

    const handwritten = http.createServer((_req, res) => {
      t.app.services.pool.query<{ body: JobsPage }>(HANDWRITTEN_SQL, [projectId]).then(
        ({ rows }) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(rows[0].body)),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
      );
    });
    await new Promise<void>((r) => handwritten.listen(0, '127.0.0.1', () => r()));
    const baseUrl = `http://127.0.0.1:${(handwritten.address() as AddressInfo).port}/jobs`;

    // Same data both ways (ids and states of the 50 newest jobs).
    const viaGraphql = await t.gql<JobsPage['data']>(QUERY);
    const viaSql = (await (await fetch(baseUrl)).json()) as JobsPage;
    const ids = (r: Partial<JobsPage>) =>
      r.data!.jobs.edges.map((e) => [e.node.id, e.node.state, e.node.attempts.edges.length, e.node.events.edges.length]);
    if (JSON.stringify(ids(viaGraphql)) !== JSON.stringify(ids(viaSql))) throw new Error('the two endpoints disagree');

    const statements = await countStatements(async () => {
      await t.gql(QUERY);
    });
    const body = JSON.stringify({ query: QUERY, operationName: 'Jobs' });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${t.adminToken}` };
    const profile = await profileWindow();
    const ours = await load(async () => {
      await (await fetch(`${t.url}/graphql`, { method: 'POST', headers, body })).arrayBuffer();
    });
    await profile?.stop('read-path');
    const base = await load(async () => {
      await (await fetch(baseUrl)).arrayBuffer();
    });
    // The same requests on the general path (Pothos, Prisma, graphql-js), which answers every query
    // outside the compiled subset: what the compiled plan saves, measured in the same run.
    t.app.services.config.compiledReads = false;
    const general = await load(async () => {
      await (await fetch(`${t.url}/graphql`, { method: 'POST', headers, body })).arrayBuffer();
    });
    t.app.services.config.compiledReads = true;
    handwritten.close();

    printTable(`Read path: jobs(first: 50) with attempts and events, ${CONNECTIONS} concurrent clients for ${DURATION_MS / 1000} s`, [
      ['requests per second', ours.rps, base.rps, 'req/s'],
      ['latency p50', ours.p50, base.p50, 'ms'],
      ['latency p99', ours.p99, base.p99, 'ms'],
    ]);
    console.log(
      `CPU of this process per request (PostgreSQL's not included): AutoDev ${ours.cpuMs.toFixed(2)} ms, baseline ${base.cpuMs.toFixed(2)} ms`,
    );
    console.log(
      `General path (AUTODEV_COMPILED_READS=off), same run: ${general.rps.toFixed(1)} req/s (${(general.rps / base.rps).toFixed(2)} of the baseline), p50 ${general.p50.toFixed(1)} ms, CPU ${general.cpuMs.toFixed(2)} ms per request`,
    );
    console.log(`SQL statements per request: AutoDev ${statements} (the compiled plan; the token is remembered), baseline 1`);
  } finally {
    await t.close();
    await db.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchReadPath();
