import type pg from 'pg';
import { isIP } from 'node:net';
import { withTransaction } from '../db/transaction.ts';
import { AppError, badInput, notFound } from '../errors.ts';
import { isPrivateAddress } from './destination.ts';
import { checkWebhookUrl, RefusedDestination } from './outbound-post.ts';
import { generateWebhookSecret } from './sign.ts';

/** What an endpoint may subscribe to. */
export const WEBHOOK_EVENT_TYPES = ['JOB_STATE_CHANGED', 'REVIEW_REQUESTED', 'INPUT_REQUESTED', 'BUDGET_THRESHOLD'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const MAX_ENDPOINTS_PER_PROJECT = 20;
const MAX_URL_LENGTH = 2000;
const MAX_DESCRIPTION = 500;
/** How long a rotated-out secret keeps signing, at most (7 days) and by default (24 h). */
export const MAX_KEEP_PREVIOUS_SECONDS = 7 * 24 * 3600;
export const DEFAULT_KEEP_PREVIOUS_SECONDS = 24 * 3600;

/**
 * Checks an endpoint URL's form. An IP literal that is private is refused here already; names are
 * checked on every delivery after DNS resolution (a name's answer can change).
 */
export function validateEndpointUrl(raw: string, allowPrivate: boolean): string {
  const url = raw.trim();
  if (url.length > MAX_URL_LENGTH) throw badInput(`A webhook \`url\` is at most ${MAX_URL_LENGTH} characters.`, { field: 'url' });
  let parsed: URL;
  try {
    parsed = checkWebhookUrl(url);
  } catch (err) {
    if (err instanceof RefusedDestination) throw badInput(`\`url\`: ${err.message}`, { field: 'url' });
    throw err;
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isPrivateAddress(host) && !allowPrivate) {
    throw badInput(
      `\`url\`: ${host} is a private, loopback or link-local address; webhooks are not delivered there (the operator may allow it with AUTODEV_WEBHOOK_ALLOW_PRIVATE).`,
      { field: 'url' },
    );
  }
  return url;
}

function validateEventTypes(types: readonly string[]): WebhookEventType[] {
  const unique = [...new Set(types)];
  if (unique.length === 0) throw badInput('Choose at least one event type in `eventTypes`.', { field: 'eventTypes' });
  for (const t of unique) {
    if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(t))
      throw badInput(`Unknown event type ${t}; one of ${WEBHOOK_EVENT_TYPES.join(', ')}.`, { field: 'eventTypes' });
  }
  return unique as WebhookEventType[];
}

function validateDescription(d: string | null | undefined): string {
  const text = (d ?? '').trim();
  if (text.length > MAX_DESCRIPTION)
    throw badInput(`A \`description\` is at most ${MAX_DESCRIPTION} characters.`, { field: 'description' });
  return text;
}

/** Creates an endpoint of the project with a new secret; returns its id and the secret (shown once). */
export async function createEndpoint(
  pool: pg.Pool,
  projectId: string,
  input: { url: string; eventTypes: readonly string[]; description?: string | null },
  allowPrivate: boolean,
): Promise<{ id: string; secret: string }> {
  const url = validateEndpointUrl(input.url, allowPrivate);
  const eventTypes = validateEventTypes(input.eventTypes);
  const description = validateDescription(input.description);
  const secret = generateWebhookSecret();
  // The count and the insert under the project's row lock: concurrent creations cannot pass the cap together.
  return withTransaction(pool, async (tx) => {
    await tx.query(`SELECT 1 FROM "Project" WHERE id = $1 FOR UPDATE`, [projectId]);
    const { rows: counted } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM "WebhookEndpoint" WHERE "projectId" = $1`, [
      projectId,
    ]);
    if (counted[0].n >= MAX_ENDPOINTS_PER_PROJECT) {
      throw new AppError('CONFLICT', `A project has at most ${MAX_ENDPOINTS_PER_PROJECT} webhook endpoints; delete one first.`);
    }
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO "WebhookEndpoint" (id, "projectId", url, description, "eventTypes", secret) VALUES (gen_random_uuid(), $1, $2, $3, $4::jsonb, $5) RETURNING id`,
      [projectId, url, description, JSON.stringify(eventTypes), secret],
    );
    return { id: rows[0].id, secret };
  });
}

/** Changes the given fields of an endpoint of the project; NOT_FOUND for any other id. */
export async function updateEndpoint(
  pool: pg.Pool,
  projectId: string,
  id: string,
  input: { url?: string | null; eventTypes?: readonly string[] | null; description?: string | null; enabled?: boolean | null },
  allowPrivate: boolean,
): Promise<void> {
  const url = input.url != null ? validateEndpointUrl(input.url, allowPrivate) : null;
  const eventTypes = input.eventTypes != null ? validateEventTypes(input.eventTypes) : null;
  const description = input.description != null ? validateDescription(input.description) : null;
  const { rowCount } = await pool.query(
    `UPDATE "WebhookEndpoint" SET url = coalesce($3, url), "eventTypes" = coalesce($4::jsonb, "eventTypes"),
            description = coalesce($5, description), enabled = coalesce($6, enabled)
     WHERE id = $1 AND "projectId" = $2`,
    [id, projectId, url, eventTypes && JSON.stringify(eventTypes), description, input.enabled ?? null],
  );
  if (!rowCount) throw notFound(`Webhook endpoint ${id}`);
}

export async function deleteEndpoint(pool: pg.Pool, projectId: string, id: string): Promise<void> {
  const { rowCount } = await pool.query(`DELETE FROM "WebhookEndpoint" WHERE id = $1 AND "projectId" = $2`, [id, projectId]);
  if (!rowCount) throw notFound(`Webhook endpoint ${id}`);
}

/**
 * A new secret for the endpoint; the current one keeps signing (next to the new) for
 * `keepPreviousSeconds` (0: retired at once), so receivers can switch without missing a delivery.
 */
export async function rotateEndpointSecret(pool: pg.Pool, projectId: string, id: string, keepPreviousSeconds: number): Promise<string> {
  if (!Number.isInteger(keepPreviousSeconds) || keepPreviousSeconds < 0 || keepPreviousSeconds > MAX_KEEP_PREVIOUS_SECONDS) {
    throw badInput(`\`keepPreviousSeconds\` must be an integer from 0 to ${MAX_KEEP_PREVIOUS_SECONDS} (7 days).`, {
      field: 'keepPreviousSeconds',
    });
  }
  const secret = generateWebhookSecret();
  const { rowCount } = await pool.query(
    `UPDATE "WebhookEndpoint" SET "previousSecret" = CASE WHEN $4 > 0 THEN secret END,
            "previousSecretExpiresAt" = CASE WHEN $4 > 0 THEN now() + make_interval(secs => $4) END, secret = $3
     WHERE id = $1 AND "projectId" = $2`,
    [id, projectId, secret, keepPreviousSeconds],
  );
  if (!rowCount) throw notFound(`Webhook endpoint ${id}`);
  return secret;
}

/** The secrets that sign a delivery now: the current one, and the previous one while it is kept. */
export function signingSecrets(
  e: { secret: string; previousSecret: string | null; previousSecretExpiresAt: Date | null },
  now = new Date(),
): string[] {
  return e.previousSecret && e.previousSecretExpiresAt && e.previousSecretExpiresAt > now ? [e.secret, e.previousSecret] : [e.secret];
}
