import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../db/pool.ts';
import { prepareDatabase } from '../db/prepare-database.ts';
import { createTestDatabase } from '../test/database.ts';
import { ensureBootstrapAdmin, ensureProject } from './bootstrap.ts';
import { generateSecret } from './tokens.ts';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: ReturnType<typeof createPool>;
beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, 12);
  await prepareDatabase(pool);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('the bootstrap admin token', () => {
  it('10 replicas starting at once with the same AUTODEV_ADMIN_TOKEN: none fails, one token exists', async () => {
    const projectId = await ensureProject(pool, 'default', 'Default project');
    const secret = generateSecret();
    // Open the connections first, so that the ten really run side by side.
    await Promise.all(Array.from({ length: 12 }, () => pool.query('SELECT pg_sleep(0.05)')));
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => ensureBootstrapAdmin(pool, projectId, secret)));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "ApiToken" WHERE "projectId" = $1 AND "revokedAt" IS NULL`, [
      projectId,
    ]);
    expect(rows[0].n).toBe(1);
  });
});
