import type { Sql } from '../db/transaction.ts';

export const DELIVER_WEBHOOK_TASK = 'deliverWebhook';

// One graphile-worker job per delivery at a time: the job key is the delivery's, so a redelivery
// replaces a retry that is waiting instead of adding a second one. graphile-worker's own retries
// (max_attempts) only cover a worker that crashed or lost the database mid-attempt; the retry
// schedule of failed attempts is ours (retry-schedule.ts).
const ADD_JOB = (deliveryId: string, runAt: string) =>
  `graphile_worker.add_job('${DELIVER_WEBHOOK_TASK}', json_build_object('deliveryId', ${deliveryId}), run_at := ${runAt}, max_attempts := 5, job_key := 'webhook-delivery:' || ${deliveryId})`;

/** SQL that queues an attempt of delivery `deliveryId` (an SQL expression) now; for INSERT … SELECT. */
export const queueDeliverySql = (deliveryId: string) => ADD_JOB(deliveryId, 'now()');

/** Queues an attempt of the delivery at `runAt` (now when not given), in the caller's transaction. */
export async function queueDeliveryAttempt(sql: Sql, deliveryId: string, runAt?: Date | null): Promise<void> {
  await sql.query(`SELECT ${ADD_JOB('$1::uuid', 'COALESCE($2::timestamptz, now())')}`, [deliveryId, runAt ?? null]);
}
