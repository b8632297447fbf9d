import type { TransitionTx } from '../jobs/transition-job.ts';

/** Opens the review of an attempt's output; called in the transaction that enters AWAITING_REVIEW. */
export async function openReview(tx: TransitionTx, review: { attemptId: string | null; output: unknown }): Promise<string> {
  const { rows } = await tx.sql.query<{ id: string }>(
    `INSERT INTO "Review" (id, "jobId", "attemptId", status, output) VALUES (gen_random_uuid(), $1, $2, 'PENDING', $3) RETURNING id`,
    [tx.job.id, review.attemptId, JSON.stringify(review.output ?? null)],
  );
  return rows[0].id;
}
