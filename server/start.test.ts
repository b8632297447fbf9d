import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { TRIAGE_INPUT } from './test/fixtures.ts';

function postgresPids(dataDir: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', dataDir], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe('npm start on a clean checkout', () => {
  it('starts embedded PostgreSQL, prints the URL and an admin token that answers a templates query, runs a job to its end, and Ctrl-C stops everything', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'autodev-start-'));
    // A clean checkout configures nothing: the test run's own database, Redis and token stay out.
    const unset = new Set(['DATABASE_URL', 'REDIS_URL', 'AUTODEV_ADMIN_TOKEN', 'AUTODEV_ROLE']);
    const env: NodeJS.ProcessEnv = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !unset.has(k))),
      AUTODEV_DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
    };
    // What `npm start` runs, without npm (whose shell would not pass a signal on): Ctrl-C reaches it as from a terminal.
    expect(JSON.parse(await readFile('package.json', 'utf8')).scripts.start).toBe('node scripts/start.mjs');
    const child = spawn(process.execPath, ['scripts/start.mjs'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    try {
      const started = Date.now();
      while (!/Admin token/.test(out)) {
        if (child.exitCode !== null) throw new Error(`exited early: ${out}\n${err}`);
        if (Date.now() - started > 90_000) throw new Error(`not ready after 90 s: ${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const url = /GraphQL \+ GraphiQL: (\S+)\/graphql/.exec(out)![1];
      const token = /Admin token \(new\): (\S+)/.exec(out)![1];
      expect((await readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim()).toBe(token);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      const ready = await fetch(`${url}/readyz`);
      expect(await ready.json()).toMatchObject({ status: 'ready', checks: { postgres: true } });
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ templates { edges { node { slug requiresReview } } } }' }),
      });
      const body = await res.json();
      expect(body.errors).toBeUndefined();
      expect(body.data.templates.edges.map((e: any) => e.node.slug).sort()).toEqual([
        'fix-failing-tests',
        'implement-feature',
        'triage-bug',
        'write-unit-tests',
      ]);
      // A job runs through the bundled server end to end: GraphQL createJob, the worker (graphile-worker
      // and its config loaders), the runner on the offline provider, charges and stored events.
      const gql = async (query: string, variables?: unknown) => {
        const r = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables }),
        });
        return (await r.json()) as { data?: any; errors?: unknown[] };
      };
      const created = await gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id state } }`, {
        input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT },
      });
      expect(created.errors).toBeUndefined();
      expect(created.data.createJob.state).toBe('QUEUED');
      // …and its events reach a WebSocket subscription (graphql-ws and ws are in the bundle too).
      const ws = createClient({
        url: `${url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
      });
      const streamed: number[] = [];
      const unsubscribe = ws.subscribe<{ jobEvents: { seq: number } }>(
        { query: 'subscription($id: ID!) { jobEvents(jobId: $id) { seq } }', variables: { id: created.data.createJob.id } },
        {
          next: (m) => {
            if (m.data) streamed.push(m.data.jobEvents.seq);
          },
          error: () => {},
          complete: () => {},
        },
      );
      let job: { state: string; costUsd: number; events: { edges: { node: { type: string } }[] } } | undefined;
      for (const until = Date.now() + 60_000; Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
        const read = await gql(`query($id: ID!) { job(id: $id) { state costUsd events(first: 100) { edges { node { type } } } } }`, {
          id: created.data.createJob.id,
        });
        expect(read.errors).toBeUndefined();
        job = read.data.job;
        if (job && !['QUEUED', 'RUNNING'].includes(job.state)) break;
      }
      expect(job?.state).toMatch(/^(SUCCEEDED|AWAITING_REVIEW)$/);
      const types = job!.events.edges.map((e) => e.node.type);
      expect(types).toEqual(expect.arrayContaining(['STATE_CHANGED', 'TASK_STARTED', 'TASK_COMPLETED', 'USAGE']));
      expect(job!.costUsd).toBeGreaterThan(0);
      const stored = job!.events.edges.length;
      for (const until = Date.now() + 10_000; streamed.length < stored && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
      unsubscribe();
      await ws.dispose();
      expect(streamed).toEqual(Array.from({ length: stored }, (_, i) => i + 1));
      const graphiql = await fetch(`${url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await graphiql.text()).toContain('AutoDev GraphQL');
      // The web app, and the link that signs in with the printed token.
      const webLink = /Web app: +(\S+)/.exec(out)![1];
      expect(webLink).toBe(`${url}/#token=${token}`);
      const web = await fetch(`${url}/`, { headers: { accept: 'text/html' } });
      expect(await web.text()).toContain('<div id="root">');
      expect(postgresPids(dataDir).length).toBeGreaterThan(0);
    } finally {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        await exited;
      }
    }
    expect(child.exitCode).toBe(0);
    expect(postgresPids(dataDir)).toEqual([]);
    await rm(dataDir, { recursive: true, force: true });
  }, 150_000);
});
