import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureProject } from '../auth/bootstrap.ts';
import { createPool } from '../db/pool.ts';
import { prepareDatabase } from '../db/prepare-database.ts';
import { stopValidationWorker, validationStats } from '../guardrails/validation-pool.ts';
import { createTestDatabase } from '../test/database.ts';
import { seedTemplates } from './seed-templates.ts';

// Seeding runs at every start: a restart must not validate (start a worker thread for) templates
// the project already has, and must still add one that is missing.

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;
let projectId: string;
beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, 2);
  await prepareDatabase(pool);
  projectId = await ensureProject(pool, 'seeds', 'Seeds');
}, 60_000);
afterAll(async () => {
  await stopValidationWorker();
  await pool?.end();
  await db?.drop();
});

const slugs = async () =>
  (await pool.query<{ slug: string }>(`SELECT slug FROM "Template" WHERE "projectId" = $1 ORDER BY slug`, [projectId])).rows.map(
    (r) => r.slug,
  );

describe('seedTemplates', () => {
  it('adds the bundled templates once; a restart validates none of them; a missing one is added again', async () => {
    expect(await seedTemplates(pool, projectId)).toBe(4);
    expect(await slugs()).toEqual(['fix-failing-tests', 'implement-feature', 'triage-bug', 'write-unit-tests']);
    await stopValidationWorker();
    const started = validationStats.started;

    expect(await seedTemplates(pool, projectId)).toBe(0);
    expect(validationStats.started, 'no validation worker started for templates the project has').toBe(started);

    await pool.query(`DELETE FROM "Template" WHERE "projectId" = $1 AND slug = 'triage-bug'`, [projectId]);
    expect(await seedTemplates(pool, projectId)).toBe(1);
    expect(await slugs()).toEqual(['fix-failing-tests', 'implement-feature', 'triage-bug', 'write-unit-tests']);
  }, 60_000);

  it('leaves an edited template alone', async () => {
    await pool.query(`UPDATE "Template" SET name = 'Edited', version = version + 1 WHERE "projectId" = $1 AND slug = 'write-unit-tests'`, [
      projectId,
    ]);
    expect(await seedTemplates(pool, projectId)).toBe(0);
    const { rows } = await pool.query(`SELECT name, version FROM "Template" WHERE "projectId" = $1 AND slug = 'write-unit-tests'`, [
      projectId,
    ]);
    expect(rows[0]).toEqual({ name: 'Edited', version: 2 });
  });
});
