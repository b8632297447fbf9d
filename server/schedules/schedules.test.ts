// Schedules through the API with one in-process worker: validation, pause/resume, delete and the
// missed-tick policy, on real PostgreSQL and graphile-worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { SCRIPTED_RUNNER_COMMAND, scriptedTemplate, upsertTemplate } from '../test/scripted.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ role: 'all', env: { AUTODEV_RUNNER_COMMAND: SCRIPTED_RUNNER_COMMAND, AUTODEV_WORKER_CONCURRENCY: '4' } });
  await upsertTemplate(t.gql, scriptedTemplate('scripted'));
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const CREATE = `mutation($input: ScheduleInput!) { createSchedule(input: $input) { id cron timezone paused nextRunAt } }`;
const UPDATE = `mutation($id: ID!, $input: ScheduleUpdate!) { updateSchedule(id: $id, input: $input) { id cron paused nextRunAt } }`;

async function create(input: Record<string, unknown>) {
  const res = await t.gql(CREATE, { input: { templateSlug: 'scripted', input: { script: 'ok' }, ...input } });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.createSchedule as { id: string; nextRunAt: string | null; paused: boolean };
}
const ticksOf = async (id: string) =>
  (await t.app.services.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "ScheduleTick" WHERE "scheduleId" = $1`, [id])).rows[0].n;
const jobsOf = async (id: string) =>
  (
    await t.app.services.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Job" WHERE "idempotencyKey" LIKE $1`, [
      `schedule:${id}:%`,
    ])
  ).rows[0].n;
const pendingTicks = async (id: string) =>
  (await t.app.services.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE key = $1`, [`schedule:${id}`]))
    .rows[0].n;

/** Waits (polling the database) until `cond` holds; fails with `what` after 60 s. */
async function until(what: string, cond: () => Promise<boolean>) {
  const started = Date.now();
  while (!(await cond())) {
    if (Date.now() - started > 60_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('schedules: validation', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['a cron expression that does not parse', { cron: 'every day' }, /`cron`: "every day" is not a cron expression/],
    ['a field out of range', { cron: '61 * * * *' }, /Invalid value for minute: 61/],
    ['a cron expression that never fires', { cron: '0 0 30 2 *' }, /never fires/],
    ['an unknown time zone', { cron: '* * * * *', timezone: 'Mars/Olympus' }, /`timezone`: "Mars\/Olympus" is not an IANA time zone/],
    ['input the template refuses', { cron: '* * * * *', input: { script: 'ok', extra: 1 } }, /Job input is invalid/],
    ['an unknown template', { cron: '* * * * *', templateSlug: 'nope' }, /There is no template `nope`/],
  ];
  for (const [what, input, message] of cases) {
    it(`refuses ${what} with BAD_USER_INPUT and a sentence, creating nothing`, async () => {
      const before = (await t.gql(`{ schedules { id } }`)).data.schedules.length;
      const res = await t.gql(CREATE, { input: { templateSlug: 'scripted', input: { script: 'ok' }, ...input } });
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(message);
      expect((await t.gql(`{ schedules { id } }`)).data.schedules.length).toBe(before);
    });
  }

  it('refuses a bad update the same way and leaves the schedule as it was', async () => {
    const s = await create({ cron: '0 0 1 1 *', timezone: 'Europe/Paris' });
    for (const [input, message] of [
      [{ cron: '* * * * * * * * *' }, /is not a cron expression/],
      [{ timezone: 'Nowhere/Else' }, /is not an IANA time zone/],
      [{ input: { nope: true } }, /Job input is invalid/],
    ] as const) {
      const res = await t.gql(UPDATE, { id: s.id, input });
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(message);
    }
    const after = (await t.gql(`query($id: ID!) { schedule(id: $id) { cron timezone input nextRunAt } }`, { id: s.id })).data.schedule;
    expect(after).toEqual({ cron: '0 0 1 1 *', timezone: 'Europe/Paris', input: { script: 'ok' }, nextRunAt: s.nextRunAt });
    // New Year in Paris is 23:00 UTC on 31 December.
    expect(s.nextRunAt).toMatch(/-12-31T23:00:00.000Z$/);
  });

  it('an unknown id is NOT_FOUND', async () => {
    const res = await t.gql(UPDATE, { id: '00000000-0000-4000-8000-000000000000', input: { paused: true } });
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(res.errors?.[0]?.message).toMatch(/Schedule .* was not found/);
  });
});

describe('schedules: ticks', () => {
  it('pause stops the ticks (the pending tick is removed), resume restarts them, delete removes the pending tick', async () => {
    // A second schedule keeps ticking: its ticks measure time passing without a timer in the test.
    const control = await create({ cron: '* * * * * *' });
    const s = await create({ cron: '* * * * * *' });
    await until('two ticks of the schedule', async () => (await ticksOf(s.id)) >= 2);
    const control3More = async () => {
      const from = await ticksOf(control.id);
      await until('three more ticks of the control schedule', async () => (await ticksOf(control.id)) >= from + 3);
    };

    const paused = (await t.gql(UPDATE, { id: s.id, input: { paused: true } })).data.updateSchedule;
    expect(paused).toMatchObject({ paused: true, nextRunAt: null });
    expect(await pendingTicks(s.id)).toBe(0);
    const atPause = await ticksOf(s.id);
    await control3More();
    expect(await ticksOf(s.id)).toBe(atPause);

    const resumed = (await t.gql(UPDATE, { id: s.id, input: { paused: false } })).data.updateSchedule;
    expect(resumed.paused).toBe(false);
    expect(new Date(resumed.nextRunAt).getTime()).toBeGreaterThan(Date.now() - 5_000);
    await until('a tick after resuming', async () => (await ticksOf(s.id)) > atPause);

    const del = await t.gql(`mutation($id: ID!) { deleteSchedule(id: $id) }`, { id: s.id });
    expect(del).toEqual({ data: { deleteSchedule: true } });
    expect(await pendingTicks(s.id)).toBe(0);
    const jobsAtDelete = await jobsOf(s.id);
    await control3More();
    expect(await jobsOf(s.id)).toBe(jobsAtDelete);
    expect((await t.gql(`query($id: ID!) { schedule(id: $id) { id } }`, { id: s.id })).data.schedule).toBeNull();
    await t.gql(`mutation($id: ID!) { deleteSchedule(id: $id) }`, { id: control.id });
  }, 120_000);

  it('each tick creates one job the schedule names, shown with the tick', async () => {
    const s = await create({ cron: '* * * * * *' });
    await until('a tick', async () => (await ticksOf(s.id)) >= 1);
    await t.gql(UPDATE, { id: s.id, input: { paused: true } });
    const shown = (
      await t.gql(
        `query($id: ID!) { schedule(id: $id) { lastTickAt recentTicks(last: 50) { scheduledAt skipped error job { id idempotencyKey createdBy input } } } }`,
        { id: s.id },
      )
    ).data.schedule;
    expect(shown.recentTicks.length).toBeGreaterThanOrEqual(1);
    expect(shown.lastTickAt).toBe(shown.recentTicks[0].scheduledAt);
    for (const tick of shown.recentTicks) {
      expect(tick).toMatchObject({ skipped: 0, error: null });
      expect(tick.job).toMatchObject({
        idempotencyKey: `schedule:${s.id}:${tick.scheduledAt}`,
        createdBy: `schedule ${s.id}`,
        input: { script: 'ok' },
      });
    }
    expect(await jobsOf(s.id)).toBe(shown.recentTicks.length);
  }, 60_000);

  it('missed ticks: a tick more than 60 s late runs once, for the most recent due time, and counts the older ones as skipped', async () => {
    // Every minute; its pending tick is moved 10 minutes into the past, as if nothing had run since.
    const s = await create({ cron: '0 * * * * *', paused: true });
    const now = Date.now();
    const tenMinutesAgo = new Date(Math.floor(now / 60_000) * 60_000 - 10 * 60_000);
    await t.app.services.pool.query(`SELECT graphile_worker.add_job('scheduleTick', $1::json, run_at := $2, job_key := $3)`, [
      JSON.stringify({ scheduleId: s.id, at: tenMinutesAgo.toISOString(), version: 2 }),
      tenMinutesAgo,
      `schedule:${s.id}`,
    ]);
    // Resumed in the database only (version 2), so the API queues no tick of its own.
    await t.app.services.pool.query(`UPDATE "Schedule" SET paused = false, version = 2 WHERE id = $1`, [s.id]);
    await until('the late tick', async () => (await ticksOf(s.id)) >= 1);
    const ranAt = Date.now();
    const shown = (
      await t.gql(`query($id: ID!) { schedule(id: $id) { skippedTicks nextRunAt recentTicks { scheduledAt skipped job { id } } } }`, {
        id: s.id,
      })
    ).data.schedule;
    expect(shown.recentTicks).toHaveLength(1);
    const tick = shown.recentTicks[0];
    const latestMinute = (ms: number) => Math.floor(ms / 60_000) * 60_000;
    expect([latestMinute(now), latestMinute(ranAt)]).toContain(new Date(tick.scheduledAt).getTime());
    const expectedSkips = (new Date(tick.scheduledAt).getTime() - tenMinutesAgo.getTime()) / 60_000;
    expect(tick.skipped).toBe(expectedSkips);
    expect(shown.skippedTicks).toBe(expectedSkips);
    expect(tick.job).not.toBeNull();
    expect(new Date(shown.nextRunAt).getTime()).toBe(new Date(tick.scheduledAt).getTime() + 60_000);
    await t.gql(`mutation($id: ID!) { deleteSchedule(id: $id) }`, { id: s.id });
  }, 60_000);
});
