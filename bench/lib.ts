import { mkdir, writeFile } from 'node:fs/promises';
import inspector from 'node:inspector/promises';
import os from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import path from 'node:path';
import type { TestServer } from '../server/test/harness.ts';
import { inLanes } from '../server/test/in-lanes.ts';
import { minimalTemplate } from '../server/test/minimal-template.ts';
import { benchGraphqlClient } from './graphql-client.ts';

/** The product's abuse limits, lifted: the benchmarks are one client with one token and one address. */
export const BENCH_LIMITS = {
  AUTODEV_RATE_LIMIT_MUTATIONS_PER_MINUTE: '1000000',
  AUTODEV_MAX_SUBSCRIPTIONS_PER_TOKEN: '100000',
  AUTODEV_WS_MAX_CONNECTIONS_PER_ADDRESS: '100000',
  AUTODEV_WS_MAX_CONNECTIONS: '100000',
  // Other processes on a shared machine can slow a schema check past its default 2 s.
  AUTODEV_VALIDATION_TIMEOUT_MS: '30000',
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** One line per figure: AutoDev, the baseline measured in the same run, and their ratio. */
export function printTable(title: string, rows: [string, number, number, string][]) {
  console.log(`\n## ${title}`);
  console.log(`| figure | AutoDev | baseline | ratio (AutoDev / baseline) |`);
  console.log(`| --- | --- | --- | --- |`);
  for (const [label, ours, base, unit] of rows)
    console.log(`| ${label} | ${fmt(ours, 2)} ${unit} | ${fmt(base, 2)} ${unit} | ${fmt(ours / base, 2)} |`);
}

export function machine(): string {
  return `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export const MINIMAL_TEMPLATE = minimalTemplate('bench-minimal', 'Minimal (benchmarks)');

export async function addMinimalTemplate(t: TestServer) {
  const r = await t.gql(`mutation($input: TemplateInput!) { upsertTemplate(input: $input) { slug } }`, { input: MINIMAL_TEMPLATE });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
}

export async function createJobs(t: TestServer, n: number, concurrency: number, offset = 0): Promise<string[]> {
  const ids: string[] = [];
  const client = benchGraphqlClient(t, concurrency);
  try {
    await inLanes(
      Array.from({ length: n }, (_, i) => i + offset),
      concurrency,
      async (i) => {
        const r = await client.post(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
          input: { templateSlug: 'bench-minimal', input: { n: i } },
        });
        if (r.errors) throw new Error(JSON.stringify(r.errors));
        ids.push((r.data as { createJob: { id: string } }).createJob.id);
      },
    );
  } finally {
    client.close();
  }
  return ids;
}

export async function waitForTerminal(t: TestServer, ids: string[], timeoutMs = 120_000) {
  const started = Date.now();
  for (;;) {
    const { rows } = await t.app.services.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "Job" WHERE id = ANY($1) AND state IN ('SUCCEEDED','FAILED','CANCELLED','BUDGET_EXCEEDED','REJECTED')`,
      [ids],
    );
    if (rows[0].n === ids.length) return;
    if (Date.now() - started > timeoutMs) throw new Error(`only ${rows[0].n}/${ids.length} jobs finished`);
    await sleep(20);
  }
}

/**
 * This process's event loop over a measured window: the share of the time it was busy, and how
 * late a 5 ms timer ran (p50 / p99, ms): near 1 and tens of ms, the loop is saturated and work
 * waits in its queue.
 */
export function loopWindow() {
  const resolution = 5;
  const delay = monitorEventLoopDelay({ resolution });
  delay.enable();
  const from = performance.eventLoopUtilization();
  return () => {
    delay.disable();
    return {
      utilization: performance.eventLoopUtilization(from).utilization,
      // The histogram holds the intervals between the timer's runs: its own 5 ms included.
      delayP50: Math.max(0, delay.percentile(50) / 1e6 - resolution),
      delayP99: Math.max(0, delay.percentile(99) / 1e6 - resolution),
    };
  };
}

/** With BENCH_PROFILE_DIR set: a CPU profile of the measured window only (not start-up). */
export async function profileWindow() {
  const dir = process.env.BENCH_PROFILE_DIR;
  if (!dir) return null;
  const session = new inspector.Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(name: string) {
      const { profile } = await session.post('Profiler.stop');
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
      session.disconnect();
    },
  };
}
