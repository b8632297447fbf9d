import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import { notFound } from '../errors.ts';
import { queueDeliveryAttempt } from './queue-delivery.ts';

/**
 * Queues an attempt of a delivery of the project now, with its webhook-id and body unchanged: a
 * FAILED or SUCCEEDED delivery becomes PENDING for one more attempt (retries continue only while
 * it has attempts left); a PENDING one waiting for a retry is tried now instead (same queue entry).
 */
export async function redeliverWebhook(pool: pg.Pool, projectId: string, deliveryId: string): Promise<void> {
  await withTransaction(pool, async (sql) => {
    const { rowCount } = await sql.query(
      `UPDATE "WebhookDelivery" SET status = 'PENDING', "nextRetryAt" = now() WHERE id = $1 AND "projectId" = $2`,
      [deliveryId, projectId],
    );
    if (!rowCount) throw notFound(`Webhook delivery ${deliveryId}`);
    await queueDeliveryAttempt(sql, deliveryId);
  });
}
