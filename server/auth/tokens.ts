import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import type { Sql } from '../db/transaction.ts';
import { AppError, badInput } from '../errors.ts';
import { ROLES, type Role } from './roles.ts';

const PREFIX = 'adv_';

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function generateSecret(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

export interface Principal {
  tokenId: string;
  projectId: string;
  role: Role;
  name: string;
  /** Null: the token does not expire. */
  expiresAt: Date | null;
}

/** The two ways a valid token stops being one; `extensions.reason` tells them apart for clients. */
export const tokenRevoked = () => new AppError('UNAUTHENTICATED', 'The API token has been revoked.', { reason: 'TOKEN_REVOKED' });
export const tokenExpired = (at: Date) =>
  new AppError('UNAUTHENTICATED', `The API token expired at ${at.toISOString()}; create a new one.`, { reason: 'TOKEN_EXPIRED' });

/** The stored hash of an `Authorization: Bearer <secret>` value; UNAUTHENTICATED when it has no bearer secret. */
export function bearerSecretHash(authorization: string | undefined | null): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) throw new AppError('UNAUTHENTICATED', 'Send an API token as `Authorization: Bearer <token>`.');
  return hashSecret(match[1]);
}

/**
 * Records that the token was used. lastUsedAt is kept to the minute by the callers: writing it on
 * every request made concurrent requests with one token queue on that row.
 */
export function touchToken(pool: pg.Pool, tokenId: string): void {
  void pool.query(`UPDATE "ApiToken" SET "lastUsedAt" = now() WHERE id = $1`, [tokenId]).catch(() => {});
}

/**
 * Resolves a bearer secret to its token with one query (requests go through PrincipalCache, which
 * calls this when it does not know the secret). Only hashes are stored; the lookup is by hash and
 * the final comparison is constant-time. Missing, unknown and revoked tokens are UNAUTHENTICATED.
 */
export async function authenticate(pool: pg.Pool, authorization: string | undefined | null): Promise<Principal> {
  const hash = bearerSecretHash(authorization);
  const { rows } = await pool.query<{
    id: string;
    projectId: string;
    role: Role;
    name: string;
    secretHash: string;
    revokedAt: Date | null;
    expiresAt: Date | null;
    expired: boolean;
    stale: boolean;
  }>(
    `SELECT id, "projectId", role, name, "secretHash", "revokedAt", "expiresAt", "expiresAt" <= now() AS expired,
            ("lastUsedAt" IS NULL OR "lastUsedAt" < now() - interval '1 minute') AS stale
     FROM "ApiToken" WHERE "secretHash" = $1`,
    [hash],
  );
  const token = rows[0];
  if (!token || !timingSafeEqual(Buffer.from(token.secretHash), Buffer.from(hash))) {
    throw new AppError('UNAUTHENTICATED', 'The API token is not valid.');
  }
  if (token.revokedAt) throw tokenRevoked();
  if (token.expired) throw tokenExpired(token.expiresAt!);
  if (token.stale) touchToken(pool, token.id);
  return { tokenId: token.id, projectId: token.projectId, role: token.role, name: token.name, expiresAt: token.expiresAt };
}

export async function createApiToken(
  pool: Sql,
  req: { projectId: string; name: string; role: Role; secret?: string; expiresAt?: Date | null },
): Promise<{ id: string; secret: string }> {
  const name = req.name.trim();
  if (name.length < 1 || name.length > 100) throw badInput('A token `name` must be 1 to 100 characters.', { field: 'name' });
  if (!ROLES.includes(req.role)) throw badInput(`\`role\` must be one of ${ROLES.join(', ')}.`, { field: 'role' });
  if (req.expiresAt && !(req.expiresAt.getTime() > Date.now()))
    throw badInput('`expiresAt` must lie in the future.', { field: 'expiresAt' });
  const secret = req.secret ?? generateSecret();
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO "ApiToken" (id, "projectId", name, role, "secretHash", prefix, "expiresAt") VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6) RETURNING id`,
    [req.projectId, name, req.role, hashSecret(secret), secret.slice(0, PREFIX.length + 6), req.expiresAt ?? null],
  );
  return { id: rows[0].id, secret };
}

/** Revokes a token of the project; true if it was active. */
export async function revokeApiToken(pool: pg.Pool, req: { projectId: string; tokenId: string }): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE "ApiToken" SET "revokedAt" = now() WHERE id = $1 AND "projectId" = $2 AND "revokedAt" IS NULL`,
    [req.tokenId, req.projectId],
  );
  return (rowCount ?? 0) > 0;
}
