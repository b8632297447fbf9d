// 1. Job lifecycle throughput: createJob → worker → attempt → events → SUCCEEDED, versus raw
//    graphile-worker (addJob + a no-op task) at the same concurrency, on the same database.
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import { createTestDatabase } from '../server/test/database.ts';
import { startTestServer } from '../server/test/harness.ts';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { BENCH_LIMITS, MINIMAL_TEMPLATE, addMinimalTemplate, createJobs, printTable, profileWindow, waitForTerminal } from './lib.ts';
import { isTerminal } from '../server/jobs/state-machine.ts';
import type { TestServer } from '../server/test/harness.ts';
import { inLanes } from '../server/test/in-lanes.ts';
import { createPool } from '../server/db/pool.ts';
import { isTransactionControl, isTransactionStart, recordStatements, type StatementLog } from '../server/test/count-statements.ts';

const N = Number(process.env.BENCH_JOBS ?? 300);
const CONCURRENCY = 8;
// Both sides run as many jobs before the window as in it: the window then measures steady state, not
// V8 compiling the hot paths or each pooled connection's first executions of a prepared statement
// (planned afresh the first five times). In 300 jobs from a fresh server, 27–30 % of the executions of
// AutoDev's hot statements had a plan of their own (pg_prepared_statements).
const WARMUP = Number(process.env.BENCH_WARMUP ?? N);
const silent = new Logger(() => () => {});

/** What one measured window cost: statements and transactions sent, CPU of this process and of the database's backends. */
interface WindowCost {
  statements: number;
  transactions: number;
  /** Statements outside an explicit transaction (each commits on its own). */
  autocommit: number;
  /** Queries sent and answered as one (statements and transaction control; a BEGIN sent with its first statement is not one). */
  roundTrips: number;
  cpuMs: number;
  pgCpuMs: number | null;
  /** WAL the database server wrote over the window (bytes; the whole server's, so nothing else may write meanwhile): what the window's writes cost PostgreSQL. */
  walBytes: number;
  log: StatementLog;
}

/** CPU time (ms) of the PostgreSQL backends connected to this database, from /proc (null where unreadable). */
async function backendCpuMs(db: pg.Pool): Promise<Map<number, number> | null> {
  const { rows } = await db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`);
  const tick = 1000 / 100; // USER_HZ
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
      out.set(pid, (Number(fields[11]) + Number(fields[12])) * tick);
    } catch {
      return null;
    }
  }
  return out;
}

/** The server's current WAL position. */
async function walLsn(db: pg.Pool): Promise<string> {
  return (await db.query<{ lsn: string }>(`SELECT pg_current_wal_lsn()::text AS lsn`)).rows[0].lsn;
}

async function measureWindow(db: pg.Pool, fn: () => Promise<void>): Promise<WindowCost> {
  const walBefore = await walLsn(db);
  const pgBefore = await backendCpuMs(db);
  const log = recordStatements();
  const cpu = process.cpuUsage();
  try {
    await fn();
  } finally {
    log.stop();
  }
  const used = process.cpuUsage(cpu);
  const pgAfter = await backendCpuMs(db);
  const { rows } = await db.query<{ bytes: string }>(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text AS bytes`, [
    walBefore,
  ]);
  // Backends that were there before and after (a pool's connections live across the window).
  let pgCpuMs: number | null = null;
  if (pgBefore && pgAfter) {
    pgCpuMs = 0;
    for (const [pid, after] of pgAfter) pgCpuMs += after - (pgBefore.get(pid) ?? 0);
  }
  const texts = log.texts;
  return {
    statements: texts.filter((t) => !isTransactionControl(t)).length,
    transactions: texts.filter(isTransactionStart).length,
    autocommit: log.autocommitTexts.length,
    roundTrips: log.roundTrips(),
    cpuMs: (used.user + used.system) / 1000,
    pgCpuMs,
    walBytes: Number(rows[0].bytes),
    log,
  };
}

/**
 * This process's context switches since `since`: involuntary (a thread that could run was taken off
 * its CPU, e.g. for a PostgreSQL backend its write woke) and voluntary (it waited for I/O).
 */
function contextSwitches(since = { preempted: 0, slept: 0 }) {
  const usage = process.resourceUsage();
  return { preempted: usage.involuntaryContextSwitches - since.preempted, slept: usage.voluntaryContextSwitches - since.slept };
}

/** p50 / p90 of `values`, in ms. */
function percentiles(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(0);
  return `${at(0.5)} / ${at(0.9)}`;
}

/**
 * Where a job's time went, from the database's own timestamps (ms precision): queued (createJob's
 * insert to the claim's RUNNING event, the claim's wait for its project's lock included), running
 * (the claim's event to the start of the transaction that ends the attempt: the runner, its events
 * and usage, the guardrails) and ending (that transaction's start to its SUCCEEDED event: the round
 * trip of its BEGIN and the wait for the project's lock). With the mean number of jobs queued.
 */
async function waitBreakdown(db: pg.Pool, ids: string[]): Promise<string> {
  const { rows } = await db.query<{ created: number; claimed: number; ending: number; ended: number }>(
    `SELECT extract(epoch FROM j."createdAt") * 1000 AS created, extract(epoch FROM j."finishedAt") * 1000 AS ending,
            (SELECT extract(epoch FROM min(e."createdAt")) * 1000 FROM "JobEvent" e WHERE e."jobId" = j.id AND e."toState" = 'RUNNING') AS claimed,
            (SELECT extract(epoch FROM max(e."createdAt")) * 1000 FROM "JobEvent" e WHERE e."jobId" = j.id AND e."toState" = 'SUCCEEDED') AS ended
     FROM "Job" j WHERE j.id = ANY($1)`,
    [ids],
  );
  const first = Math.min(...rows.map((r) => r.created));
  const span = Math.max(...rows.map((r) => r.ended)) - first;
  const queuedMs = rows.reduce((sum, r) => sum + (r.claimed - r.created), 0);
  return (
    `Where a job's time went, p50 / p90 ms: queued ${percentiles(rows.map((r) => r.claimed - r.created))} ` +
    `(on average ${(queuedMs / span).toFixed(0)} jobs queued over the ${span.toFixed(0)} ms), ` +
    `running ${percentiles(rows.map((r) => r.ending - r.claimed))}, ending ${percentiles(rows.map((r) => r.ended - r.ending))}`
  );
}

/** The statements of the window grouped by their first words, most frequent first (BENCH_STATEMENTS=1). */
function printStatements(log: StatementLog, n: number) {
  const byText = new Map<string, number>();
  for (const t of log.texts) byText.set(t.slice(0, 150), (byText.get(t.slice(0, 150)) ?? 0) + 1);
  for (const [text, count] of [...byText].sort((a, b) => b[1] - a[1])) console.log(`${(count / n).toFixed(2).padStart(7)}  ${text}`);
}

/**
 * Resolves once `n` jobs of the project have ended, counted in this process from the jobs' own
 * events on the event bus, as the baseline counts its tasks in its process: the window holds no
 * polling statement of the benchmark's (a poll of 300 ids every 20 ms was one in AutoDev's window
 * only) and ends when the last job does, not at the next poll.
 */
async function whenEnded(t: TestServer, n: number): Promise<{ ended: Promise<void>; stop: () => Promise<void> }> {
  const { rows } = await t.app.services.pool.query<{ projectId: string }>(`SELECT "projectId" FROM "Template" WHERE slug = $1`, [
    MINIMAL_TEMPLATE.slug,
  ]);
  let count = 0;
  let resolve = () => {};
  const ended = new Promise<void>((r) => (resolve = r));
  const stop = await t.app.services.events.onProject(rows[0].projectId, (e) => {
    if (e.type === 'STATE_CHANGED' && e.toState && isTerminal(e.toState) && ++count === n) resolve();
  });
  return { ended, stop };
}

interface Round {
  ours: number;
  base: number;
  /** Prints the round's table and figures; `which`: which of the rounds it is. */
  report: (which: string) => void;
}

/** One round: AutoDev's window, then the baseline's, each on its own warmed-up process state, same database. */
async function lifecycleRound(): Promise<Round> {
  const db = await createTestDatabase();
  try {
    const t = await startTestServer({
      databaseUrl: db.url,
      role: 'all',
      env: { ...BENCH_LIMITS, AUTODEV_EXECUTOR: 'inline', AUTODEV_WORKER_CONCURRENCY: String(CONCURRENCY) },
    });
    await addMinimalTemplate(t);
    await waitForTerminal(t, await createJobs(t, WARMUP, CONCURRENCY, 1_000_000)); // warm-up
    const ends = await whenEnded(t, N);
    const started = performance.now();
    let finished = 0;
    let ids: string[] = [];
    let createdAfterMs = 0;
    const profile = await profileWindow();
    const loop = performance.eventLoopUtilization();
    const switches = contextSwitches();
    const oursCost = await measureWindow(t.app.services.pool, async () => {
      ids = await createJobs(t, N, CONCURRENCY);
      createdAfterMs = performance.now() - started;
      await ends.ended;
      finished = performance.now();
    });
    const ours = N / ((finished - started) / 1000);
    const loopBusy = performance.eventLoopUtilization(loop).utilization;
    const oursSwitches = contextSwitches(switches);
    await profile?.stop('lifecycle');
    await ends.stop();
    await waitForTerminal(t, ids, 10_000); // every job of the window ended (and only those)
    const { rows } = await t.app.services.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "JobEvent" WHERE "jobId" = ANY($1)`, [
      ids,
    ]);
    const breakdown = await waitBreakdown(t.app.services.pool, ids);
    await t.close();

    const pgPool = createPool(db.url, 20);
    pgPool.on('error', () => {});
    const utils = await makeWorkerUtils({ pgPool, logger: silent });
    let done = 0;
    // Resolved by the task that brings `done` to `until` (the end of the warm-up, then of the window).
    let until = WARMUP;
    let reached = () => {};
    const runner = await run({
      pgPool,
      concurrency: CONCURRENCY,
      noHandleSignals: true,
      logger: silent,
      pollInterval: 1000,
      taskList: {
        noop: () => {
          if (++done === until) reached();
        },
      },
    });
    await inLanes(Array.from({ length: WARMUP }), CONCURRENCY, async (_, i) => {
      await utils.addJob('noop', { n: -1 - i });
    });
    await new Promise<void>((r) => (done >= WARMUP ? r() : (reached = r))); // warm-up
    done = 0;
    until = N;
    const allDone = new Promise<void>((r) => (reached = r));
    const baseSwitches = contextSwitches();
    const baseStart = performance.now();
    let baseFinished = 0;
    const baseCost = await measureWindow(pgPool, async () => {
      await inLanes(Array.from({ length: N }), CONCURRENCY, async (_, i) => {
        await utils.addJob('noop', { n: i });
      });
      await allDone;
      baseFinished = performance.now();
    });
    const base = N / ((baseFinished - baseStart) / 1000);
    const baseSwitched = contextSwitches(baseSwitches);
    await runner.stop();
    await utils.release();
    await pgPool.end();

    return {
      ours,
      base,
      report: (which) => {
        printTable(
          `Job lifecycle throughput (${N} jobs after ${WARMUP} of warm-up each, concurrency ${CONCURRENCY}, inline executor, offline provider${which})`,
          [['jobs per second', ours, base, 'jobs/s']],
        );
        console.log(`(${rows[0].n / N} events stored per AutoDev job; the baseline task does nothing and stores nothing)`);
        const per = (c: WindowCost, k: 'statements' | 'transactions' | 'autocommit' | 'roundTrips' | 'cpuMs') =>
          (c[k] / N).toFixed(k === 'cpuMs' ? 2 : 1);
        const pgPer = (c: WindowCost) => (c.pgCpuMs === null ? 'n/a' : `${(c.pgCpuMs / N).toFixed(2)} ms`);
        console.log(
          `Per job: SQL statements AutoDev ${per(oursCost, 'statements')} / baseline ${per(baseCost, 'statements')} (transaction control not counted), ` +
            `transactions ${per(oursCost, 'transactions')} / ${per(baseCost, 'transactions')} (explicit BEGIN) ` +
            `plus statements outside one ${per(oursCost, 'autocommit')} / ${per(baseCost, 'autocommit')}, ` +
            `round trips ${per(oursCost, 'roundTrips')} / ${per(baseCost, 'roundTrips')}, ` +
            `CPU of this process (API, worker and the benchmark's client) ${per(oursCost, 'cpuMs')} ms / ${per(baseCost, 'cpuMs')} ms, ` +
            `CPU of the database's backends ${pgPer(oursCost)} / ${pgPer(baseCost)}, ` +
            `WAL written ${(oursCost.walBytes / N / 1024).toFixed(1)} / ${(baseCost.walBytes / N / 1024).toFixed(1)} KiB`,
        );
        console.log(
          `${breakdown}; all ${N} createJob answered after ${createdAfterMs.toFixed(0)} ms; ` +
            `this process's event loop busy ${(loopBusy * 100).toFixed(0)} % of the window, ` +
            `its threads preempted ${(oursSwitches.preempted / N).toFixed(1)} / baseline ${(baseSwitched.preempted / N).toFixed(1)} ` +
            `and asleep ${(oursSwitches.slept / N).toFixed(1)} / ${(baseSwitched.slept / N).toFixed(1)} times per job`,
        );
        if (process.env.BENCH_STATEMENTS) printStatements(oursCost.log, N);
      },
    };
  } finally {
    await db.drop();
  }
}

/**
 * The lifecycle's ratio moves by ±10 % between runs of the same code on this machine: the table is
 * the median round of ROUNDS by ratio (each round its own database, server and warm-up), with
 * every round's figures after it.
 */
const ROUNDS = Number(process.env.BENCH_LIFECYCLE_ROUNDS ?? 3);

export async function benchLifecycle() {
  const rounds: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await lifecycleRound());
  const ratio = (r: Round) => r.ours / r.base;
  const median = [...rounds].sort((a, b) => ratio(a) - ratio(b))[Math.floor((rounds.length - 1) / 2)];
  median.report(rounds.length > 1 ? `; the median of ${rounds.length} rounds by ratio` : '');
  if (rounds.length > 1)
    console.log(
      `Every round, AutoDev / baseline jobs/s (ratio): ${rounds.map((r) => `${r.ours.toFixed(1)} / ${r.base.toFixed(1)} (${ratio(r).toFixed(2)})`).join(', ')}`,
    );
}

if (import.meta.url === `file://${process.argv[1]}`) await benchLifecycle();
