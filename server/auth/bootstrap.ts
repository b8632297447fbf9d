import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { createApiToken, generateSecret, hashSecret } from './tokens.ts';

export const DEFAULT_PROJECT_SLUG = 'default';
const BOOTSTRAP_TOKEN_NAME = 'bootstrap admin';

export async function ensureProject(pool: pg.Pool, slug: string, name: string): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO "Project" (id, slug, name) VALUES (gen_random_uuid(), $1, $2)
     ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug RETURNING id`,
    [slug, name],
  );
  return rows[0].id;
}

/**
 * Makes `secret` an admin token of the project (stored hashed, like any token). Earlier bootstrap
 * tokens are revoked, so changing AUTODEV_ADMIN_TOKEN retires the old value. Safe when several
 * processes start at once with the same secret.
 */
export async function ensureBootstrapAdmin(pool: pg.Pool, projectId: string, secret: string): Promise<void> {
  const hash = hashSecret(secret);
  await pool.query(
    `UPDATE "ApiToken" SET "revokedAt" = now() WHERE "projectId" = $1 AND name = $2 AND "secretHash" <> $3 AND "revokedAt" IS NULL`,
    [projectId, BOOTSTRAP_TOKEN_NAME, hash],
  );
  const { rows } = await pool.query(`SELECT 1 FROM "ApiToken" WHERE "secretHash" = $1`, [hash]);
  if (rows.length > 0) return;
  try {
    await createApiToken(pool, { projectId, name: BOOTSTRAP_TOKEN_NAME, role: 'ADMIN', secret });
  } catch (err) {
    // Replicas starting together: another one created the same token first.
    if ((err as { code?: string }).code !== '23505') throw err;
  }
}

/** A secret generated at first start and kept (mode 600) under the data dir: the embedded admin token, the signing key. */
export async function localSecret(dataDir: string, name: string): Promise<{ secret: string; generated: boolean }> {
  const file = path.join(dataDir, name);
  if (existsSync(file)) return { secret: (await readFile(file, 'utf8')).trim(), generated: false };
  await mkdir(dataDir, { recursive: true });
  const secret = generateSecret();
  await writeFile(file, secret + '\n', { mode: 0o600 });
  return { secret, generated: true };
}
