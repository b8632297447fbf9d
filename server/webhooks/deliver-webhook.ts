import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import { signingSecrets } from './endpoints.ts';
import { outboundPost, type OutboundResult } from './outbound-post.ts';
import { queueDeliveryAttempt } from './queue-delivery.ts';
import { retryDelayMs, type RetryPolicy } from './retry-schedule.ts';
import { signDelivery } from './sign.ts';

export interface DeliveryDeps {
  pool: pg.Pool;
  config: { webhookAllowPrivate: boolean; webhookDelivery: RetryPolicy & { timeoutMs: number } };
}

/** The delivery's `webhook-id`: the same on every attempt and every redelivery. */
export function webhookMessageId(deliveryId: string): string {
  return `msg_${deliveryId.replaceAll('-', '')}`;
}

interface DeliveryRow {
  id: string;
  status: string;
  body: string;
  url: string;
  enabled: boolean;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

/** The sentence the delivery log shows for a failed attempt. */
function failure(result: OutboundResult): string | null {
  if (result.ok) return null;
  if (result.status === null) return result.error;
  if (result.status >= 300 && result.status < 400)
    return `The receiver answered HTTP ${result.status}; redirects are not followed, so this counts as a failed attempt.`;
  return `The receiver answered HTTP ${result.status}; only a 2xx answer counts as delivered.`;
}

/**
 * One attempt of a delivery (the graphile-worker task): signs the stored body with the endpoint's
 * current secret (and the previous one while it is kept), POSTs it once with a deadline, then records
 * the attempt and, when it failed and attempts are left, queues the next one (retry-schedule.ts) in
 * one transaction. A delivery that is no longer PENDING (delivered, failed, its endpoint deleted)
 * is left alone, so a duplicated queue entry sends nothing.
 */
export async function deliverWebhook(deps: DeliveryDeps, deliveryId: string): Promise<void> {
  const { rows } = await deps.pool.query<DeliveryRow>(
    `SELECT d.id, d.status, d.body, e.url, e.enabled, e.secret, e."previousSecret", e."previousSecretExpiresAt"
       FROM "WebhookDelivery" d JOIN "WebhookEndpoint" e ON e.id = d."endpointId" WHERE d.id = $1`,
    [deliveryId],
  );
  const d = rows[0];
  if (!d || d.status !== 'PENDING') return;
  if (!d.enabled) {
    await deps.pool.query(
      `UPDATE "WebhookDelivery" SET status = 'FAILED', "nextRetryAt" = NULL, "lastError" = 'The endpoint was disabled before this attempt; enable it and redeliver.'
        WHERE id = $1 AND status = 'PENDING'`,
      [deliveryId],
    );
    return;
  }
  const at = new Date();
  const headers = signDelivery(signingSecrets(d, at), webhookMessageId(d.id), at, d.body);
  const policy = deps.config.webhookDelivery;
  const result = await outboundPost(d.url, { ...headers }, d.body, {
    timeoutMs: policy.timeoutMs,
    maxResponseBytes: 4096,
    allowPrivate: deps.config.webhookAllowPrivate,
  });
  await withTransaction(deps.pool, async (sql) => {
    // Counted whatever else happened meanwhile: every POST made is an attempt in the log. A delivery
    // another run already delivered stays SUCCEEDED.
    const { rows: after } = await sql.query<{ attempts: number; status: string }>(
      `UPDATE "WebhookDelivery" SET attempts = attempts + 1, "lastAttemptAt" = $2, "responseStatus" = $3, "durationMs" = $4, "lastError" = $5,
              status = CASE WHEN $6 OR status = 'SUCCEEDED' THEN 'SUCCEEDED'::"WebhookDeliveryStatus" ELSE status END
        WHERE id = $1 RETURNING attempts, status`,
      [deliveryId, at, result.status, result.durationMs, failure(result), result.ok],
    );
    const row = after[0];
    if (!row || row.status !== 'PENDING') {
      if (row) await sql.query(`UPDATE "WebhookDelivery" SET "nextRetryAt" = NULL WHERE id = $1`, [deliveryId]);
      return;
    }
    const wait = retryDelayMs(row.attempts, policy);
    if (wait === null) {
      await sql.query(`UPDATE "WebhookDelivery" SET status = 'FAILED', "nextRetryAt" = NULL WHERE id = $1`, [deliveryId]);
      return;
    }
    const next = new Date(Date.now() + wait);
    await sql.query(`UPDATE "WebhookDelivery" SET "nextRetryAt" = $2 WHERE id = $1`, [deliveryId, next]);
    await queueDeliveryAttempt(sql, deliveryId, next);
  });
}
