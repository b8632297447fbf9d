import type pg from 'pg';
import { DEFAULT_PROJECT_SLUG } from '../auth/bootstrap.ts';
import { hasRole } from '../auth/roles.ts';
import type { Principal } from '../auth/tokens.ts';
import { forbidden } from '../errors.ts';

/**
 * The instance administrator is an ADMIN token of the operator's project (`default`, where
 * AUTODEV_ADMIN_TOKEN belongs): what every project shares (model prices) and the projects
 * themselves are theirs. No new role: a project's ADMIN stays the top of a project, and the
 * operator hands out further instance administrators as ADMIN tokens of `default`.
 */
export async function requireInstanceAdmin(pool: pg.Pool, principal: Principal, what: string): Promise<void> {
  if (hasRole(principal.role, 'ADMIN')) {
    const { rows } = await pool.query<{ slug: string }>(`SELECT slug FROM "Project" WHERE id = $1`, [principal.projectId]);
    if (rows[0]?.slug === DEFAULT_PROJECT_SLUG) return;
  }
  throw forbidden(
    `${what} is for the instance administrator: an ADMIN token of the operator's project (\`${DEFAULT_PROJECT_SLUG}\`, where AUTODEV_ADMIN_TOKEN belongs); this token is ${principal.role} of another project or not ADMIN.`,
  );
}
