import type pg from 'pg';
import { createApiToken } from '../auth/tokens.ts';
import { withTransaction } from '../db/transaction.ts';
import { AppError, badInput } from '../errors.ts';
import { seedTemplates } from '../templates/seed-templates.ts';

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;

export interface CreatedProject {
  projectId: string;
  adminTokenId: string;
  adminSecret: string;
}

/** Checks a project's slug and name; returns them trimmed. */
export function validateProject(input: { slug: string; name: string }): { slug: string; name: string } {
  const slug = input.slug.trim();
  const name = input.name.trim();
  if (!SLUG.test(slug)) {
    throw badInput('A project `slug` is 1 to 48 lowercase letters, digits and inner hyphens (e.g. `payments-team`).', { field: 'slug' });
  }
  if (name.length < 1 || name.length > 100) throw badInput('A project `name` must be 1 to 100 characters.', { field: 'name' });
  return { slug, name };
}

/**
 * Creates a project and its first ADMIN token in one transaction (a project is never left without
 * the token that can administer it), then adds the bundled templates as the default project has.
 * A slug already taken is CONFLICT.
 */
export async function createProject(
  pool: pg.Pool,
  input: { slug: string; name: string; adminTokenName?: string | null },
): Promise<CreatedProject> {
  const { slug, name } = validateProject(input);
  const created = await withTransaction(pool, async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO "Project" (id, slug, name) VALUES (gen_random_uuid(), $1, $2) ON CONFLICT (slug) DO NOTHING RETURNING id`,
      [slug, name],
    );
    if (!rows[0]) throw new AppError('CONFLICT', `A project with slug \`${slug}\` already exists; choose another slug.`, { field: 'slug' });
    const token = await createApiToken(tx, { projectId: rows[0].id, name: input.adminTokenName ?? `${slug} admin`, role: 'ADMIN' });
    return { projectId: rows[0].id, adminTokenId: token.id, adminSecret: token.secret };
  });
  // Idempotent and outside the transaction: a failure here leaves a usable project whose ADMIN can add templates.
  await seedTemplates(pool, created.projectId);
  return created;
}
