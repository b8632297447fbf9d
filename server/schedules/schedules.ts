import type pg from 'pg';
import { withTransaction, type Sql } from '../db/transaction.ts';
import { AppError, badInput, notFound } from '../errors.ts';
import type { InputValidation } from '../guardrails/validate-input.ts';
import { validateOffThread } from '../guardrails/validation-pool.ts';
import { MAX_INPUT_BYTES } from '../intake/create-job.ts';
import { nextTick, validateCron, validateTimezone } from './cron.ts';
import { enqueueTick, removeTick } from './enqueue-tick.ts';

export const MAX_SCHEDULES_PER_PROJECT = 100;

export interface ScheduleInput {
  templateSlug: string;
  input?: unknown;
  cron: string;
  timezone?: string | null;
  paused?: boolean | null;
}

export interface ScheduleUpdate {
  input?: unknown;
  cron?: string | null;
  timezone?: string | null;
  paused?: boolean | null;
}

/** The input checked as createJob checks it: present, at most 256 KiB, valid against the template's input schema. */
async function validateInput(inputSchema: object, input: unknown): Promise<void> {
  if (input === undefined || input === null) throw badInput('`input` is required (a JSON object).', { field: 'input' });
  if (Buffer.byteLength(JSON.stringify(input)) > MAX_INPUT_BYTES)
    throw badInput(`\`input\` is larger than ${MAX_INPUT_BYTES / 1024} KiB.`, { field: 'input' });
  const valid = await validateOffThread<InputValidation>({ op: 'input', schema: inputSchema, input });
  if (!valid.ok) throw badInput(valid.message, { field: 'input', errors: valid.errors });
}

/** Queues the next tick after now (and records it), or none when paused. In the caller's transaction. */
async function planNextTick(sql: Sql, s: { id: string; cron: string; timezone: string; paused: boolean; version: number }): Promise<void> {
  const next = s.paused ? null : nextTick(s.cron, s.timezone, new Date());
  if (next) await enqueueTick(sql, { scheduleId: s.id, at: next.toISOString(), version: s.version });
  else await removeTick(sql, s.id);
  await sql.query(`UPDATE "Schedule" SET "nextRunAt" = $2 WHERE id = $1`, [s.id, next]);
}

/** Creates a schedule of the project; its first tick is queued in the same transaction. */
export async function createSchedule(
  pool: pg.Pool,
  projectId: string,
  by: { tokenId: string | null; name: string },
  req: ScheduleInput,
): Promise<string> {
  const timezone = validateTimezone(req.timezone ?? 'UTC');
  const cron = validateCron(req.cron, timezone);
  const { rows: templates } = await pool.query<{ id: string; inputSchema: object }>(
    `SELECT id, "inputSchema" FROM "Template" WHERE "projectId" = $1 AND slug = $2`,
    [projectId, req.templateSlug],
  );
  const template = templates[0];
  if (!template) throw badInput(`There is no template \`${req.templateSlug}\` in this project.`, { field: 'templateSlug' });
  await validateInput(template.inputSchema, req.input);
  const paused = req.paused ?? false;
  // The count and the insert under the project's row lock: concurrent creations cannot pass the cap together.
  return withTransaction(pool, async (tx) => {
    await tx.query(`SELECT 1 FROM "Project" WHERE id = $1 FOR UPDATE`, [projectId]);
    const { rows: counted } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Schedule" WHERE "projectId" = $1`, [
      projectId,
    ]);
    if (counted[0].n >= MAX_SCHEDULES_PER_PROJECT) {
      throw new AppError('CONFLICT', `A project has at most ${MAX_SCHEDULES_PER_PROJECT} schedules; delete one first.`);
    }
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO "Schedule" (id, "projectId", "templateId", input, cron, timezone, paused, "createdById", "createdBy")
       VALUES (gen_random_uuid(), $1, $2, $3::jsonb, $4, $5, $6, $7, $8) RETURNING id`,
      [projectId, template.id, JSON.stringify(req.input), cron, timezone, paused, by.tokenId, by.name],
    );
    const id = rows[0].id;
    await planNextTick(tx, { id, cron, timezone, paused, version: 1 });
    return id;
  });
}

/**
 * Changes the given fields of a schedule of the project (NOT_FOUND for any other id). The pending
 * tick is replaced by the next one after now under the new settings (none while paused): a resumed
 * schedule does not catch up on the ticks it had while paused.
 */
export async function updateSchedule(pool: pg.Pool, projectId: string, id: string, req: ScheduleUpdate): Promise<void> {
  const { rows: found } = await pool.query<{ cron: string; timezone: string; inputSchema: object }>(
    `SELECT s.cron, s.timezone, t."inputSchema" FROM "Schedule" s JOIN "Template" t ON t.id = s."templateId" WHERE s.id = $1 AND s."projectId" = $2`,
    [id, projectId],
  );
  if (!found[0]) throw notFound(`Schedule ${id}`);
  const timezone = req.timezone != null ? validateTimezone(req.timezone) : null;
  const cron = req.cron != null || timezone ? validateCron(req.cron ?? found[0].cron, timezone ?? found[0].timezone) : null;
  if (req.input != null) await validateInput(found[0].inputSchema, req.input);
  await withTransaction(pool, async (tx) => {
    const { rows } = await tx.query<{ id: string; cron: string; timezone: string; paused: boolean; version: number }>(
      `UPDATE "Schedule" SET cron = coalesce($3, cron), timezone = coalesce($4, timezone), input = coalesce($5::jsonb, input),
              paused = coalesce($6, paused), version = version + 1, "updatedAt" = now()
       WHERE id = $1 AND "projectId" = $2 RETURNING id, cron, timezone, paused, version`,
      [id, projectId, cron, timezone, req.input == null ? null : JSON.stringify(req.input), req.paused ?? null],
    );
    if (!rows[0]) throw notFound(`Schedule ${id}`);
    await planNextTick(tx, rows[0]);
  });
}

/** Deletes a schedule of the project and its pending tick (a tick under way finishes, queueing none). */
export async function deleteSchedule(pool: pg.Pool, projectId: string, id: string): Promise<void> {
  await withTransaction(pool, async (tx) => {
    const { rowCount } = await tx.query(`DELETE FROM "Schedule" WHERE id = $1 AND "projectId" = $2`, [id, projectId]);
    if (!rowCount) throw notFound(`Schedule ${id}`);
    await removeTick(tx, id);
  });
}
