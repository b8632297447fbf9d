// createJob with a template this process read before: one statement (the insert checks what the
// template's read would decide), and whatever changed since (a new version of the template, a price
// deleted, a budget spent) is decided as if the template had been read again.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { recordStatements } from '../test/count-statements.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { minimalTemplate } from '../test/minimal-template.ts';
import { createJob } from './create-job.ts';
import { AppError } from '../errors.ts';

let t: TestServer;
let projectId: string;
const TEMPLATE = minimalTemplate('known-template', 'Known template');

beforeAll(async () => {
  t = await startTestServer();
  await upsert(TEMPLATE);
  projectId = (await t.app.services.pool.query<{ id: string }>(`SELECT id FROM "Project" WHERE slug = 'default'`)).rows[0].id;
});
afterAll(async () => {
  await t?.close();
});

async function upsert(template: object) {
  const r = await t.gql(`mutation($input: TemplateInput!) { upsertTemplate(input: $input) { slug } }`, { input: template });
  expect(r.errors).toBeUndefined();
}

/** The operator's AUTODEV_MODEL (every agent calls it), or none. */
let override: string | undefined;
const create = (input: unknown, idempotencyKey?: string) =>
  createJob(
    override
      ? { ...t.app.services, config: { ...t.app.services.config, model: { ...t.app.services.config.model, model: override } } }
      : t.app.services,
    {
      projectId,
      templateSlug: TEMPLATE.slug,
      input,
      idempotencyKey: idempotencyKey ?? null,
      createdById: null,
      createdBy: 'known-template-test',
    },
  );

/** `fn`'s result with `model`'s price deleted meanwhile (put back afterwards). */
async function withoutPrice<T>(model: string, fn: () => Promise<T>): Promise<T> {
  const pool = t.app.services.pool;
  const { rows } = await pool.query(`DELETE FROM "ModelPrice" WHERE model = $1 RETURNING *`, [model]);
  expect(rows).toHaveLength(1);
  try {
    return await fn();
  } finally {
    await pool.query(
      `INSERT INTO "ModelPrice" (model, "inputUsdPerMillion", "outputUsdPerMillion", "updatedAt") VALUES ($1, $2, $3, now())`,
      [model, rows[0].inputUsdPerMillion, rows[0].outputUsdPerMillion],
    );
  }
}

/** createJob's statements and the job's template version (or the refusal's code). */
async function counted(input: unknown, idempotencyKey?: string) {
  const log = recordStatements();
  const r = await create(input, idempotencyKey)
    .finally(() => log.stop())
    .catch((err: unknown) => err);
  const statements = log.texts.length;
  if (!('jobId' in (r as object)))
    return { statements, refused: r instanceof AppError ? r.code : String(r), field: r instanceof AppError ? r.details.field : undefined };
  const { jobId, created } = r as Awaited<ReturnType<typeof create>>;
  const { rows } = await t.app.services.pool.query<{ v: number }>(`SELECT "templateVersion" AS v FROM "Job" WHERE id = $1`, [jobId]);
  return { statements, version: rows[0].v, jobId, created };
}

it('a known template costs createJob one statement; a new version of it is used at once, its schema deciding the input', async () => {
  expect(await counted({ n: 1 })).toMatchObject({ statements: 2, version: 1 }); // read, insert
  expect(await counted({ n: 2 })).toMatchObject({ statements: 1, version: 1 });
  expect(await counted({ n: 3 })).toMatchObject({ statements: 1, version: 1 });

  // Version 2 takes a string `n`: what version 1 refused is accepted, what it accepted refused.
  await upsert({ ...TEMPLATE, inputSchema: { type: 'object', properties: { n: { type: 'string' } }, required: ['n'] } });
  expect(await counted({ n: 'four' })).toMatchObject({ version: 2 });
  expect(await counted({ n: 'five' })).toMatchObject({ statements: 1, version: 2 });
  expect(await counted({ n: 6 })).toMatchObject({ refused: 'BAD_USER_INPUT' });
  // A version the known template's schema accepts, the current one refuses.
  await upsert({ ...TEMPLATE, inputSchema: { type: 'object', properties: { n: { type: 'string', maxLength: 3 } }, required: ['n'] } });
  expect(await counted({ n: 'seven' })).toMatchObject({ refused: 'BAD_USER_INPUT' });
  expect(await counted({ n: 'ok' })).toMatchObject({ version: 3 });

  // The same idempotency key twice: the same job, not a second one.
  const first = await counted({ n: 'k' }, 'known-template-key');
  // The insert found the key taken with the template current: the key's job is looked up, not the template.
  expect(await counted({ n: 'k' }, 'known-template-key')).toMatchObject({ jobId: first.jobId, created: false, statements: 2 });
});

it('a price deleted or a budget spent since the template was read refuses the job as a fresh read does', async () => {
  await upsert({ ...TEMPLATE, inputSchema: { type: 'object' } });
  expect(await counted({})).toMatchObject({ version: 4 });
  expect(await counted({})).toMatchObject({ statements: 1, version: 4 });

  const pool = t.app.services.pool;
  expect(await withoutPrice('gpt-4o-mini', () => counted({}))).toMatchObject({ refused: 'BAD_USER_INPUT', field: 'crew.agents[0].model' });
  expect(await counted({})).toMatchObject({ version: 4 });

  const budget = await t.gql(`mutation { setBudget(input: { limitUsd: 1, period: MONTHLY }) { id } }`);
  expect(budget.errors).toBeUndefined();
  await pool.query(`UPDATE "Budget" SET "spentUsd" = 1 WHERE "projectId" = $1`, [projectId]);
  expect(await counted({})).toMatchObject({ refused: 'BUDGET_EXCEEDED' });
  await pool.query(`UPDATE "Budget" SET "spentUsd" = 0 WHERE "projectId" = $1`, [projectId]);
  expect(await counted({})).toMatchObject({ version: 4 });
  expect(await counted({})).toMatchObject({ statements: 1, version: 4 });
});

it("with the operator's model override, the known template is checked against the override's price, not the agents'", async () => {
  override = 'gpt-4o';
  try {
    expect(await counted({})).toMatchObject({ statements: 2 });
    expect(await counted({})).toMatchObject({ statements: 1 });
    // The override's price deleted (the agents' model keeps its own): refused, as a fresh read refuses it.
    expect(await withoutPrice('gpt-4o', () => counted({}))).toMatchObject({ refused: 'BAD_USER_INPUT', field: 'AUTODEV_MODEL' });
  } finally {
    override = undefined;
  }
});
