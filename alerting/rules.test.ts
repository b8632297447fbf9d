import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/test/harness.ts';
import { TRIAGE_INPUT } from '../server/test/fixtures.ts';
import { waitForJob } from '../server/test/scripted.ts';

const DIR = path.dirname(fileURLToPath(import.meta.url));
const RULES = path.join(DIR, 'rules.yml');
const TESTS = path.join(DIR, 'rules.test.yml');

function promtool(args: string[], cwd = DIR) {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool is required (apt-get install prometheus; .ci/run installs it): ${r.error.message}`);
  return r;
}

describe('alerting rules', () => {
  it('pass promtool check rules', () => {
    const r = promtool(['check', 'rules', RULES]);
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('pass their promtool unit tests (series that fire and series that must not)', () => {
    const r = promtool(['test', 'rules', TESTS]);
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('a broken rule expression fails the unit tests', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'autodev-rules-'));
    writeFileSync(
      path.join(dir, 'rules.yml'),
      readFileSync(RULES, 'utf8').replace('max(autodev_queue_oldest_age_seconds) > 300', 'max(autodev_queue_oldest_age_second) > 300'),
    );
    copyFileSync(TESTS, path.join(dir, 'rules.test.yml'));
    const r = promtool(['test', 'rules', 'rules.test.yml'], dir);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('AutoDevQueueBacklog');
  });
});

describe('every metric the rules use is exported by /metrics', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ role: 'all', env: { AUTODEV_METRICS_PORT: '0' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('scrapes a running server that has run a job and finds each name', async () => {
    await t.gql(`mutation { setBudget(input: { limitUsd: 10 }) { id } }`);
    const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
      input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT },
    });
    const sub = t.ws();
    await new Promise<void>((resolve) => {
      const stop = sub.subscribe(
        { query: `subscription($id: ID!) { jobEvents(jobId: $id) { seq toState } }`, variables: { id: created.data.createJob.id } },
        {
          next: (v: any) => {
            if (v.data?.jobEvents.toState !== 'SUCCEEDED') return;
            stop();
            resolve();
          },
          error: () => resolve(),
          complete: () => resolve(),
        },
      );
    });
    await waitForJob(t, created.data.createJob.id, ['SUCCEEDED']);
    await t.gql(`{ job(id: "not-a-job") { id } }`, {}, 'adv_bad'); // an error with a code

    const body = await (await fetch(`${t.app.metricsUrl}/metrics`)).text();
    const exported = new Set(
      body
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.split(/[{ ]/)[0]),
    );
    const used = new Set(readFileSync(RULES, 'utf8').match(/\bautodev_[a-z0-9_]+/g));
    expect(used.size).toBeGreaterThan(5);
    const missing = [...used].filter((name) => !exported.has(name));
    expect(missing).toEqual([]);
    // Label sets stay bounded: no job ids anywhere in the exposition.
    expect(body).not.toContain(created.data.createJob.id);
  });
});
