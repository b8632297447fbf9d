import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveJob } from '../test/drive-job.ts';
import { CREATE_JOB, JOB_EVENTS, TRIAGE_INPUT } from '../test/fixtures.ts';
import { collect, startTestServer, type TestServer } from '../test/harness.ts';

let t: TestServer;
const tokens: Record<string, string | null> = {};
beforeAll(async () => {
  t = await startTestServer();
  for (const role of ['VIEWER', 'OPERATOR', 'REVIEWER', 'ADMIN'] as const) tokens[role] = await t.token(role);
  tokens.OTHER_PROJECT_ADMIN = await t.token('ADMIN', 'other-project');
  const revoked = await t.token('ADMIN');
  const id = (await t.gql(`{ viewer { tokenId } }`, {}, revoked)).data.viewer.tokenId;
  await t.gql(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id });
  tokens.REVOKED = revoked;
  tokens.MISSING = null;
  tokens.INVALID = 'adv_not-a-real-token';
});
afterAll(async () => {
  await t?.close();
});

const ROLE_ORDER = ['VIEWER', 'OPERATOR', 'REVIEWER', 'ADMIN'];
let projectSerial = 0;

async function newJob(state: 'QUEUED' | 'AWAITING_REVIEW' | 'AWAITING_INPUT' = 'QUEUED') {
  const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
  const id = res.data.createJob.id;
  if (state !== 'QUEUED') await driveJob(t.app.services, id, state);
  return id;
}
/** A webhook endpoint of our project; deleted again by the next call, so the project stays under its cap. */
let lastEndpoint: string | null = null;
async function newEndpoint() {
  if (lastEndpoint) await t.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: lastEndpoint }).catch(() => {});
  const res = await t.gql(
    `mutation { createWebhookEndpoint(input: { url: "https://hooks.example.com/m", eventTypes: [REVIEW_REQUESTED] }) { endpoint { id } } }`,
  );
  return (lastEndpoint = res.data.createWebhookEndpoint.endpoint.id as string);
}
/** A schedule of our project (paused: it makes no jobs while the matrix runs). */
async function newSchedule() {
  const res = await t.gql(`mutation($input: ScheduleInput!) { createSchedule(input: $input) { id } }`, {
    input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT, cron: '0 0 1 1 *', paused: true },
  });
  return res.data.createSchedule.id as string;
}
/** A delivery in the log of a fresh endpoint of our project (no worker here: it stays PENDING). */
async function newDelivery() {
  const endpointId = await newEndpoint();
  const { rows } = await t.app.services.pool.query<{ id: string }>(
    `INSERT INTO "WebhookDelivery" (id, "endpointId", "projectId", "eventType", body) SELECT gen_random_uuid(), id, "projectId", 'REVIEW_REQUESTED', '{}' FROM "WebhookEndpoint" WHERE id = $1 RETURNING id`,
    [endpointId],
  );
  return rows[0].id;
}
async function reviewOf(jobId: string) {
  return (await t.gql(`query($id: ID!) { job(id: $id) { review { id } } }`, { id: jobId })).data.job.review.id;
}
async function ownState() {
  const q = await t.app.services.pool.query(
    `SELECT (SELECT count(*) FROM "Job" j JOIN "Project" p ON p.id = j."projectId" WHERE p.slug = 'default')::int AS jobs,
            (SELECT json_agg(json_build_object('id', id, 'state', state, 'version', version) ORDER BY id) FROM "Job") AS states,
            (SELECT json_agg(json_build_object('id', id, 'version', version) ORDER BY id) FROM "Template" t WHERE t."projectId" = (SELECT id FROM "Project" WHERE slug = 'default')) AS templates,
            (SELECT json_agg("limitUsd") FROM "Budget" b WHERE b."projectId" = (SELECT id FROM "Project" WHERE slug = 'default')) AS budget,
            (SELECT json_agg(json_build_object('id', id, 'version', version, 'paused', paused) ORDER BY id) FROM "Schedule" s WHERE s."projectId" = (SELECT id FROM "Project" WHERE slug = 'default')) AS schedules,
            (SELECT "maxRunningAttempts" FROM "Project" WHERE slug = 'default') AS "maxRunningAttempts",
            (SELECT count(*) FROM "ApiToken" a WHERE a."projectId" = (SELECT id FROM "Project" WHERE slug = 'default') AND "revokedAt" IS NULL)::int AS tokens`,
  );
  return q.rows[0];
}

const TEMPLATE = {
  slug: 'matrix-template',
  name: 'Matrix',
  description: 'for the authorization matrix',
  crew: {
    process: 'sequential',
    agents: [{ id: 'writer', role: 'Writer', goal: 'Write', backstory: 'Writes things.', model: 'gpt-4o-mini' }],
    tasks: [{ id: 'write', description: 'Write it', expectedOutput: 'Text', agent: 'writer' }],
  },
  inputSchema: { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'], additionalProperties: false },
  outputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
};

interface MutationCase {
  name: string;
  minRole: string;
  /** Targets an existing resource by id (another project's token must get NOT_FOUND). */
  targeted: boolean;
  /** Changes what every project shares: only the operator's project (`default`) may; another project's ADMIN gets FORBIDDEN. */
  operatorOnly?: boolean;
  run(token: string | null): Promise<any>;
}

const MUTATIONS: MutationCase[] = [
  {
    name: 'createJob',
    minRole: 'OPERATOR',
    targeted: false,
    run: (tok) => t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } }, tok),
  },
  {
    name: 'cancelJob',
    minRole: 'OPERATOR',
    targeted: true,
    run: async (tok) => t.gql(`mutation($id: ID!) { cancelJob(id: $id) { state } }`, { id: await newJob() }, tok),
  },
  {
    name: 'provideInput',
    minRole: 'OPERATOR',
    targeted: true,
    run: async (tok) =>
      t.gql(`mutation($id: ID!) { provideInput(jobId: $id, answer: "yes") { state } }`, { id: await newJob('AWAITING_INPUT') }, tok),
  },
  {
    name: 'approveReview',
    minRole: 'REVIEWER',
    targeted: true,
    run: async (tok) =>
      t.gql(`mutation($id: ID!) { approveReview(id: $id) { status } }`, { id: await reviewOf(await newJob('AWAITING_REVIEW')) }, tok),
  },
  {
    name: 'rejectReview',
    minRole: 'REVIEWER',
    targeted: true,
    run: async (tok) =>
      t.gql(
        `mutation($id: ID!) { rejectReview(id: $id, comment: "no") { status } }`,
        { id: await reviewOf(await newJob('AWAITING_REVIEW')) },
        tok,
      ),
  },
  {
    name: 'requestChanges',
    minRole: 'REVIEWER',
    targeted: true,
    run: async (tok) =>
      t.gql(
        `mutation($id: ID!) { requestChanges(id: $id, feedback: "more") { status } }`,
        { id: await reviewOf(await newJob('AWAITING_REVIEW')) },
        tok,
      ),
  },
  {
    name: 'upsertTemplate',
    minRole: 'ADMIN',
    targeted: false,
    run: (tok) => t.gql(`mutation($input: TemplateInput!) { upsertTemplate(input: $input) { slug } }`, { input: TEMPLATE }, tok),
  },
  {
    name: 'setBudget',
    minRole: 'ADMIN',
    targeted: false,
    run: (tok) => t.gql(`mutation { setBudget(input: { limitUsd: 123, period: MONTHLY }) { limitUsd } }`, {}, tok),
  },
  {
    name: 'setMaxRunningAttempts',
    minRole: 'ADMIN',
    targeted: false,
    run: (tok) =>
      t.gql(`mutation { setMaxRunningAttempts(maxRunningAttempts: 50) { maxRunningAttempts effectiveMaxRunningAttempts } }`, {}, tok),
  },
  {
    name: 'setModelPrice',
    minRole: 'ADMIN',
    targeted: false,
    operatorOnly: true,
    run: (tok) =>
      t.gql(
        `mutation { setModelPrice(input: { model: "matrix-model", inputUsdPerMillion: 1, outputUsdPerMillion: 2 }) { model } }`,
        {},
        tok,
      ),
  },
  {
    name: 'createProject',
    minRole: 'ADMIN',
    targeted: false,
    operatorOnly: true,
    run: (tok) =>
      t.gql(
        `mutation($input: ProjectInput!) { createProject(input: $input) { project { id slug } adminToken { secret token { role } } } }`,
        { input: { slug: `matrix-${++projectSerial}`, name: 'Matrix project' } },
        tok,
      ),
  },
  {
    name: 'createWebhookEndpoint',
    minRole: 'ADMIN',
    targeted: false,
    run: (tok) =>
      t.gql(
        `mutation { createWebhookEndpoint(input: { url: "https://hooks.example.com/a", eventTypes: [JOB_STATE_CHANGED] }) { secret endpoint { id } } }`,
        {},
        tok,
      ),
  },
  {
    name: 'updateWebhookEndpoint',
    minRole: 'ADMIN',
    targeted: true,
    run: async (tok) =>
      t.gql(
        `mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { enabled: false }) { enabled } }`,
        { id: await newEndpoint() },
        tok,
      ),
  },
  {
    name: 'rotateWebhookSecret',
    minRole: 'ADMIN',
    targeted: true,
    run: async (tok) => t.gql(`mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, { id: await newEndpoint() }, tok),
  },
  {
    name: 'deleteWebhookEndpoint',
    minRole: 'ADMIN',
    targeted: true,
    run: async (tok) => t.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: await newEndpoint() }, tok),
  },
  {
    name: 'createSchedule',
    minRole: 'OPERATOR',
    targeted: false,
    run: (tok) =>
      t.gql(
        `mutation($input: ScheduleInput!) { createSchedule(input: $input) { id cron paused } }`,
        { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT, cron: '0 0 1 1 *', paused: true } },
        tok,
      ),
  },
  {
    name: 'updateSchedule',
    minRole: 'OPERATOR',
    targeted: true,
    run: async (tok) =>
      t.gql(`mutation($id: ID!) { updateSchedule(id: $id, input: { cron: "0 0 2 1 *" }) { cron } }`, { id: await newSchedule() }, tok),
  },
  {
    name: 'deleteSchedule',
    minRole: 'OPERATOR',
    targeted: true,
    run: async (tok) => t.gql(`mutation($id: ID!) { deleteSchedule(id: $id) }`, { id: await newSchedule() }, tok),
  },
  {
    name: 'redeliverWebhook',
    minRole: 'ADMIN',
    targeted: true,
    run: async (tok) => t.gql(`mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id status } }`, { id: await newDelivery() }, tok),
  },
  {
    name: 'createApiToken',
    minRole: 'ADMIN',
    targeted: false,
    run: (tok) => t.gql(`mutation { createApiToken(input: { name: "ci", role: VIEWER }) { secret token { id role } } }`, {}, tok),
  },
  {
    name: 'revokeApiToken',
    minRole: 'ADMIN',
    targeted: true,
    run: async (tok) => {
      const victim = await t.token('VIEWER');
      const id = (await t.gql(`{ viewer { tokenId } }`, {}, victim)).data.viewer.tokenId;
      return t.gql(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id }, tok);
    },
  },
];

/** One cell of a matrix: a caller kind against one operation, and what was wrong with the outcome (null: as specified). */
interface Cell {
  cell: string;
  wrong: string | null;
}

/** Runs a cell's checks and records the first failed expectation instead of throwing, so every cell is counted. */
async function judge(cell: string, checks: () => Promise<void>): Promise<Cell> {
  try {
    await checks();
    return { cell, wrong: null };
  } catch (err) {
    return { cell, wrong: (err as Error).message.split('\n')[0] };
  }
}

/** Each row runs once, whichever test asks first, so the summaries do not depend on test order or filters. */
function once<T>(run: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= run());
}

function mutationCells(m: MutationCase) {
  return once(async () => {
    const cells: Cell[] = [];
    for (const [who, token] of Object.entries(tokens)) {
      const cell = `${m.name} × ${who}`;
      cells.push(
        await judge(cell, async () => {
          const before = await ownState();
          const res = await m.run(token);
          const code = res.errors?.[0]?.extensions?.code;
          if (['MISSING', 'INVALID', 'REVOKED'].includes(who)) {
            expect(code, cell).toBe('UNAUTHENTICATED');
            expect(res.errors[0].message, cell).toMatch(/token/i);
          } else if (who === 'OTHER_PROJECT_ADMIN') {
            if (m.targeted) expect(code, cell).toBe('NOT_FOUND');
            else if (m.operatorOnly) expect(code, cell).toBe('FORBIDDEN');
            else expect(res.errors, cell).toBeUndefined();
          } else if (ROLE_ORDER.indexOf(who) >= ROLE_ORDER.indexOf(m.minRole)) {
            expect(res.errors, cell).toBeUndefined();
            return; // allowed: our project changed, as asked
          } else {
            expect(code, cell).toBe('FORBIDDEN');
            expect(res.errors[0].message, cell).toContain(m.minRole);
          }
          // Refused, or done in another project: nothing of ours changed (the setup's own new rows aside).
          const after = await ownState();
          const kept = (list: any[] | null, was: any[] | null) => list?.filter((x: any) => was?.some((y: any) => y.id === x.id));
          const settled = (s: any) => ({
            ...s,
            jobs: undefined,
            states: kept(s.states, before.states),
            // A targeted case's setup creates the schedule it acts on; a refused createSchedule must create none.
            schedules: m.targeted ? kept(s.schedules, before.schedules) : s.schedules,
            tokens: undefined,
          });
          expect(settled(after), cell).toEqual(settled(before));
          if (!['revokeApiToken'].includes(m.name)) expect(after.tokens, cell).toBe(before.tokens);
        }),
      );
    }
    return cells;
  });
}

describe('authorization matrix: every mutation × every kind of caller', () => {
  const rows = new Map(MUTATIONS.map((m) => [m.name, mutationCells(m)]));
  for (const m of MUTATIONS) {
    it(`${m.name} (needs ${m.minRole})`, async () => {
      const cells = await rows.get(m.name)!();
      expect(cells.map((c) => c.cell)).toEqual(Object.keys(tokens).map((who) => `${m.name} × ${who}`));
      expect(cells.filter((c) => c.wrong)).toEqual([]);
    });
  }
  it('covered every cell, none with a wrong outcome', async () => {
    const cells: Cell[] = [];
    for (const row of rows.values()) cells.push(...(await row())); // one at a time: each cell compares our project before and after
    const wrong = cells.filter((c) => c.wrong);
    expect(new Set(cells.map((c) => c.cell)).size).toBe(MUTATIONS.length * Object.keys(tokens).length);
    console.log(`authorization matrix (mutations): ${cells.length} cells, ${wrong.length} with a wrong outcome`);
    expect(wrong).toEqual([]);
  });
});

interface ReadCase {
  name: string;
  minRole: string;
  /** True when the field takes one of our ids: another project gets NOT_FOUND / null. */
  targeted?: boolean;
  /** The instance administrator's (an ADMIN of `default`): another project's ADMIN gets FORBIDDEN. */
  operatorOnly?: boolean;
  run(token: string | null, ours: { jobId: string; scheduleId: string }): Promise<{ errors?: any[]; data?: any }>;
}

const READS: ReadCase[] = [
  { name: 'viewer', minRole: 'VIEWER', run: (tok) => t.gql(`{ viewer { tokenId role project { id slug } } }`, {}, tok) },
  {
    name: 'viewer.project running-attempts limit',
    minRole: 'VIEWER',
    run: (tok) => t.gql(`{ viewer { project { maxRunningAttempts effectiveMaxRunningAttempts } } }`, {}, tok),
  },
  {
    name: 'templates',
    minRole: 'VIEWER',
    run: (tok) => t.gql(`{ templates(first: 100) { edges { node { id slug crew inputSchema } } } }`, {}, tok),
  },
  { name: 'template', minRole: 'VIEWER', run: (tok) => t.gql(`{ template(slug: "triage-bug") { id slug } }`, {}, tok) },
  {
    name: 'jobs',
    minRole: 'VIEWER',
    run: (tok) =>
      t.gql(`{ jobs(first: 100) { edges { node { id input output events(first: 10) { edges { node { message } } } } } } }`, {}, tok),
  },
  {
    name: 'job',
    minRole: 'VIEWER',
    targeted: true,
    run: (tok, o) => t.gql(`query($id: ID!) { job(id: $id) { id input } }`, { id: o.jobId }, tok),
  },
  {
    name: 'reviews',
    minRole: 'VIEWER',
    run: (tok) => t.gql(`{ reviews(first: 100) { edges { node { id output job { id } } } } }`, {}, tok),
  },
  { name: 'budgets', minRole: 'VIEWER', run: (tok) => t.gql(`{ budgets { id limitUsd spentUsd } }`, {}, tok) },
  { name: 'spend', minRole: 'VIEWER', run: (tok) => t.gql(`{ spend(days: 30) { day model templateSlug costUsd } }`, {}, tok) },
  { name: 'models', minRole: 'VIEWER', run: (tok) => t.gql(`{ models { model inputUsdPerMillion outputUsdPerMillion } }`, {}, tok) },
  { name: 'apiTokens', minRole: 'ADMIN', run: (tok) => t.gql(`{ apiTokens { id name role } }`, {}, tok) },
  { name: 'webhookEndpoints', minRole: 'ADMIN', run: (tok) => t.gql(`{ webhookEndpoints { id url eventTypes enabled } }`, {}, tok) },
  {
    name: 'schedules',
    minRole: 'VIEWER',
    run: (tok) => t.gql(`{ schedules { id input cron nextRunAt template { slug } recentTicks { scheduledAt job { id } } } }`, {}, tok),
  },
  {
    name: 'schedule',
    minRole: 'VIEWER',
    targeted: true,
    run: (tok, o) => t.gql(`query($id: ID!) { schedule(id: $id) { id input } }`, { id: o.scheduleId }, tok),
  },
  {
    name: 'WebhookEndpoint.deliveries',
    minRole: 'ADMIN',
    run: (tok) =>
      t.gql(
        `{ webhookEndpoints { id deliveries(first: 10) { edges { node { id webhookId payload status attempts lastError } } } } }`,
        {},
        tok,
      ),
  },
  { name: 'projects', minRole: 'ADMIN', operatorOnly: true, run: (tok) => t.gql(`{ projects { id slug name createdAt } }`, {}, tok) },
];

describe('authorization matrix: every query and subscription × every kind of caller', () => {
  /** Ids of our project's objects: another project's caller must never see one of them. */
  let ourIds: string[] = [];
  let jobId: string;
  let scheduleId: string;
  beforeAll(async () => {
    jobId = await newJob('AWAITING_REVIEW');
    scheduleId = await newSchedule();
    const ours = await t.gql(
      `{ viewer { project { id } } jobs(first: 100) { edges { node { id } } } reviews(first: 100) { edges { node { id } } } templates(first: 100) { edges { node { id } } } budgets { id } apiTokens { id } webhookEndpoints { id } }`,
    );
    ourIds = [
      ours.data.viewer.project.id,
      ...ours.data.jobs.edges.map((e: any) => e.node.id),
      ...ours.data.reviews.edges.map((e: any) => e.node.id),
      ...ours.data.templates.edges.map((e: any) => e.node.id),
      ...ours.data.budgets.map((b: any) => b.id),
      ...ours.data.apiTokens.map((x: any) => x.id),
      ...ours.data.webhookEndpoints.map((x: any) => x.id),
      await newEndpoint(),
      scheduleId,
    ];
    const delivery = await newDelivery(); // and its endpoint
    const log = await t.gql(`{ webhookEndpoints { id deliveries { edges { node { id webhookId } } } } }`);
    const endpoint = log.data.webhookEndpoints.find((e: any) => e.deliveries.edges.some((d: any) => d.node.id === delivery));
    ourIds.push(endpoint.id, delivery, endpoint.deliveries.edges[0].node.webhookId);
  });

  const readCells = (q: ReadCase) =>
    once(async () => {
      const cells: Cell[] = [];
      for (const [who, token] of Object.entries(tokens)) {
        const cell = `${q.name} × ${who}`;
        cells.push(
          await judge(cell, async () => {
            const res = await q.run(token, { jobId, scheduleId });
            const code = res.errors?.[0]?.extensions?.code;
            const shown = JSON.stringify(res.data ?? null);
            const nothing = Object.values(res.data ?? {}).every((v) => v === null); // refused: no data, or a nullable field null
            if (['MISSING', 'INVALID', 'REVOKED'].includes(who)) {
              expect(code, cell).toBe('UNAUTHENTICATED');
              expect(nothing, cell).toBe(true);
            } else if (who === 'OTHER_PROJECT_ADMIN' && q.operatorOnly) {
              expect(code, cell).toBe('FORBIDDEN');
              expect(nothing, cell).toBe(true);
            } else if (who === 'OTHER_PROJECT_ADMIN') {
              expect(res.errors, cell).toBeUndefined();
              for (const id of ourIds) expect(shown.includes(id), `${cell} shows ${id}`).toBe(false);
              if (q.targeted) expect(Object.values(res.data)[0], cell).toBeNull();
            } else if (ROLE_ORDER.indexOf(who) >= ROLE_ORDER.indexOf(q.minRole)) {
              expect(res.errors, cell).toBeUndefined();
            } else {
              expect(code, cell).toBe('FORBIDDEN');
              expect(nothing, cell).toBe(true);
            }
          }),
        );
      }
      return cells;
    });

  const subscriptionCells = once(async () => {
    const cells: Cell[] = [];
    for (const [who, token] of Object.entries(tokens)) {
      for (const field of ['jobEvents', 'projectEvents']) {
        const cell = `${field} × ${who}`;
        cells.push(
          await judge(cell, async () => {
            const query = field === 'jobEvents' ? JOB_EVENTS : `subscription { projectEvents { jobId seq message } }`;
            // jobEvents replays the job's events at once (the wait ends with the first; 10 s on a loaded
            // machine); projectEvents replays nothing, so its cells watch for 2.5 s that nothing leaks.
            const sub = collect(
              t.ws(token),
              query,
              field === 'jobEvents' ? { jobId } : {},
              (items) => items.length > 0,
              field === 'jobEvents' ? 10_000 : 2500,
            );
            const outcome = await sub.done.then(
              (items) => ({ items, error: null as unknown }),
              (error: unknown) => ({ items: sub.items, error }),
            );
            const seen = JSON.stringify(outcome.items);
            // graphql-ws reports GraphQL errors as arrays and a refused connection as a CloseEvent (code 4401).
            const errorText = sub.errors.map((e: any) => (typeof e?.code === 'number' ? `close ${e.code}` : JSON.stringify(e))).join(' ');
            if (['MISSING', 'INVALID', 'REVOKED'].includes(who)) {
              expect(outcome.items, cell).toEqual([]);
              // A missing or bad token is refused at connect time (4401, final for graphql-ws clients).
              expect(errorText, cell).toMatch(/close 4401/);
            } else if (who === 'OTHER_PROJECT_ADMIN') {
              if (field === 'jobEvents') expect(errorText, cell).toMatch(/NOT_FOUND/);
              for (const id of ourIds) expect(seen.includes(id), `${cell} shows ${id}`).toBe(false);
              expect(seen.includes(jobId), cell).toBe(false);
            } else if (field === 'jobEvents') {
              expect(outcome.items.length, cell).toBeGreaterThan(0); // the replay of our job's events
              expect(sub.errors, cell).toEqual([]);
            } else {
              expect(sub.errors, cell).toEqual([]); // open; nothing happened meanwhile (timed out waiting)
            }
          }),
        );
      }
    }
    return cells;
  });

  const rows = new Map(READS.map((q) => [q.name, readCells(q)]));
  for (const q of READS) {
    it(`${q.name} (needs ${q.minRole})`, async () => {
      const cells = await rows.get(q.name)!();
      expect(cells.map((c) => c.cell)).toEqual(Object.keys(tokens).map((who) => `${q.name} × ${who}`));
      expect(cells.filter((c) => c.wrong)).toEqual([]);
    });
  }

  it('jobEvents and projectEvents (subscriptions)', async () => {
    const cells = await subscriptionCells();
    expect(cells).toHaveLength(2 * Object.keys(tokens).length);
    expect(cells.filter((c) => c.wrong)).toEqual([]);
  });

  it('covered every cell, none with a wrong outcome', async () => {
    const cells: Cell[] = [];
    for (const row of [...rows.values(), subscriptionCells]) cells.push(...(await row()));
    const wrong = cells.filter((c) => c.wrong);
    expect(new Set(cells.map((c) => c.cell)).size).toBe((READS.length + 2) * Object.keys(tokens).length);
    console.log(`authorization matrix (reads): ${cells.length} cells, ${wrong.length} with a wrong outcome`);
    expect(wrong).toEqual([]);
  });
});

describe('no query or subscription leaks another project', () => {
  it("another project's admin sees none of our jobs, reviews, templates, budgets or tokens", async () => {
    const ours = await newJob('AWAITING_REVIEW');
    const other = tokens.OTHER_PROJECT_ADMIN!;
    const res = await t.gql(
      `query($id: ID!) {
        job(id: $id) { id }
        jobs(first: 100) { edges { node { id } } }
        reviews(first: 100) { edges { node { id job { id } } } }
        templates(first: 100) { edges { node { id slug } } }
        budgets { id limitUsd }
        apiTokens { id name }
        viewer { project { slug } }
      }`,
      { id: ours },
      other,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.job).toBeNull();
    const ourJobs = new Set((await t.gql(`{ jobs(first: 100) { edges { node { id } } } }`)).data.jobs.edges.map((e: any) => e.node.id));
    expect(ourJobs.has(ours)).toBe(true);
    for (const e of res.data.jobs.edges) expect(ourJobs.has(e.node.id)).toBe(false);
    for (const e of res.data.reviews.edges) expect(ourJobs.has(e.node.job.id)).toBe(false);
    const ourBudget = (await t.gql(`{ budgets { id } }`)).data.budgets[0].id;
    expect(res.data.budgets.map((b: any) => b.id)).not.toContain(ourBudget);
    expect(res.data.viewer.project.slug).toBe('other-project');
    const ourTemplateIds = (await t.gql(`{ templates(first: 100) { edges { node { id } } } }`)).data.templates.edges.map(
      (e: any) => e.node.id,
    );
    for (const e of res.data.templates.edges) expect(ourTemplateIds).not.toContain(e.node.id);
    const ourTokens = (await t.gql(`{ apiTokens { id } }`)).data.apiTokens.map((x: any) => x.id);
    for (const tok of res.data.apiTokens) expect(ourTokens).not.toContain(tok.id);
  });

  it('a viewer may read but not see secrets: apiTokens needs ADMIN', async () => {
    const res = await t.gql(`{ apiTokens { id } }`, {}, tokens.VIEWER);
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it("jobEvents for another project's job is NOT_FOUND, and projectEvents carries only the caller's project", async () => {
    const ours = await newJob();
    const other = t.ws(tokens.OTHER_PROJECT_ADMIN);
    const denied = collect(other, JOB_EVENTS, { jobId: ours, afterSeq: 0 }, (i) => i.length > 0, 5000);
    expect(await denied.done).toEqual([]);
    expect(denied.errors).toMatchObject([{ extensions: { code: 'NOT_FOUND' } }]);

    const ourJobs: string[] = [];
    const theirJobs: string[] = [];
    const ourJob = async () => ourJobs[ourJobs.push(await newJob()) - 1];
    const theirJob = async () =>
      theirJobs[
        theirJobs.push(
          (await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } }, tokens.OTHER_PROJECT_ADMIN)).data
            .createJob.id,
        ) - 1
      ];
    const seen = (items: any[]) => items.map((d) => d.projectEvents.jobId);
    const theirWs = t.ws(tokens.OTHER_PROJECT_ADMIN);
    const myWs = t.ws(tokens.VIEWER);
    // Open until the test has seen what it waits for (then the clients are disposed).
    const theirs = collect(theirWs, `subscription { projectEvents { jobId seq } }`, {}, () => false, 60_000);
    const mine = collect(myWs, `subscription { projectEvents { jobId seq } }`, {}, () => false, 60_000);
    // Live once each has received a job of its own project (no sleep): probe jobs until it has.
    for (const [sub, make] of [
      [mine, ourJob],
      [theirs, theirJob],
    ] as const) {
      for (let i = 0; i < 50 && sub.items.length === 0; i++) {
        await make();
        await expect
          .poll(() => sub.items.length, { timeout: 500 })
          .toBeGreaterThan(0)
          .catch(() => {});
      }
      expect(sub.items.length).toBeGreaterThan(0);
    }
    // Both live: one more job in each project, each seen only by its own project's subscriber.
    const last = { ours: await ourJob(), theirs: await theirJob() };
    await expect
      .poll(() => seen(mine.items).includes(last.ours) && seen(theirs.items).includes(last.theirs), { timeout: 15_000 })
      .toBe(true);
    await Promise.all([myWs.dispose(), theirWs.dispose()]);
    await Promise.allSettled([mine.done, theirs.done]);
    expect(seen(mine.items).filter((id) => !ourJobs.includes(id))).toEqual([]);
    expect(seen(theirs.items).filter((id) => !theirJobs.includes(id))).toEqual([]);
  });

  it('a WebSocket with an invalid token is refused at connect time', async () => {
    const ws = t.ws('adv_invalid');
    await expect(collect(ws, `subscription { projectEvents { seq } }`, {}, () => true, 5000).done).rejects.toBeTruthy();
  });
});
