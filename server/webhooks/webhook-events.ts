import type { Sql } from '../db/transaction.ts';
import type { WebhookEventType } from './endpoints.ts';
import { queueDeliverySql } from './queue-delivery.ts';

// What AutoDev tells endpoints, and the outbox that records it. Payload (Standard Webhooks' shape):
// {"type": "job.state_changed", "timestamp": "<ISO 8601>", "data": {...}}.

export const PAYLOAD_TYPES: Record<WebhookEventType, string> = {
  JOB_STATE_CHANGED: 'job.state_changed',
  REVIEW_REQUESTED: 'review.requested',
  INPUT_REQUESTED: 'input.requested',
  BUDGET_THRESHOLD: 'budget.threshold',
};

export interface WebhookEvent {
  type: WebhookEventType;
  data: Record<string, unknown>;
}

/** The events one job state change raises: always a state change, plus what the new state asks of a person. */
export function jobStateEvents(change: {
  projectId: string;
  jobId: string;
  fromState: string;
  toState: string;
  seq: number;
  actor: string;
  message: string;
  attemptNumber: number | null;
}): WebhookEvent[] {
  const data = { ...change };
  const events: WebhookEvent[] = [{ type: 'JOB_STATE_CHANGED', data }];
  if (change.toState === 'AWAITING_REVIEW') events.push({ type: 'REVIEW_REQUESTED', data });
  if (change.toState === 'AWAITING_INPUT') events.push({ type: 'INPUT_REQUESTED', data });
  return events;
}

/**
 * The outbox: one delivery per event and enabled endpoint of the project subscribed to its type,
 * each with its graphile-worker job, in one statement in the caller's transaction: the deliveries
 * commit with the event or not at all. Returns how many were queued.
 */
export async function queueWebhookDeliveries(
  sql: Sql,
  projectId: string,
  events: readonly WebhookEvent[],
  at = new Date(),
): Promise<number> {
  if (events.length === 0) return 0;
  const timestamp = at.toISOString();
  const { rows } = await sql.query<{ queued: number }>(
    `WITH d AS (
       INSERT INTO "WebhookDelivery" (id, "endpointId", "projectId", "eventType", body)
       SELECT gen_random_uuid(), e.id, e."projectId", ev.type, ev.body
         FROM "WebhookEndpoint" e
         JOIN unnest($2::text[], $3::text[]) AS ev(type, body) ON e."eventTypes" ? ev.type
        WHERE e."projectId" = $1 AND e.enabled
       RETURNING id)
     SELECT count(${queueDeliverySql('d.id')})::int AS queued FROM d`,
    [projectId, events.map((e) => e.type), events.map((e) => JSON.stringify({ type: PAYLOAD_TYPES[e.type], timestamp, data: e.data }))],
  );
  return rows[0].queued;
}
