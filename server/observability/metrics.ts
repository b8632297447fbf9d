import client from 'prom-client';

/**
 * Every Prometheus metric AutoDev exports, on one registry per process. Label values are bounded:
 * states, outcomes, event types, error codes, template slugs and project slugs — never job ids.
 */
export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'autodev_process_' });
  const r = [registry];
  return {
    registry,
    jobs: new client.Gauge({ name: 'autodev_jobs', help: 'Jobs by state and template.', labelNames: ['state', 'template'], registers: r }),
    queueDepth: new client.Gauge({
      name: 'autodev_queue_depth',
      help: 'Runs waiting in the queue whose start time has come.',
      registers: r,
    }),
    queueOldestAge: new client.Gauge({
      name: 'autodev_queue_oldest_age_seconds',
      help: 'Age of the oldest run waiting in the queue (0 when empty).',
      registers: r,
    }),
    inputWaitOldestAge: new client.Gauge({
      name: 'autodev_input_wait_oldest_seconds',
      help: 'How long the job that has waited longest for human input (AWAITING_INPUT) has waited (0 when none waits).',
      registers: r,
    }),
    attemptsStarted: new client.Counter({
      name: 'autodev_attempts_started_total',
      help: 'Attempts started by this process.',
      registers: r,
    }),
    attemptsFinished: new client.Counter({
      name: 'autodev_attempts_finished_total',
      help: 'Attempts finished by this process, by outcome.',
      labelNames: ['outcome'],
      registers: r,
    }),
    attemptDuration: new client.Histogram({
      name: 'autodev_attempt_duration_seconds',
      help: 'Wall time of attempts, by outcome.',
      labelNames: ['outcome'],
      buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers: r,
    }),
    runnerEvents: new client.Counter({
      name: 'autodev_runner_events_total',
      help: 'Runner protocol events and plain lines received, by type.',
      labelNames: ['type'],
      registers: r,
    }),
    budgetSpent: new client.Gauge({
      name: 'autodev_budget_spent_usd',
      help: 'Spend in the current budget period.',
      labelNames: ['project'],
      registers: r,
    }),
    budgetLimit: new client.Gauge({
      name: 'autodev_budget_limit_usd',
      help: 'Budget limit of the period.',
      labelNames: ['project'],
      registers: r,
    }),
    budgetRemaining: new client.Gauge({
      name: 'autodev_budget_remaining_usd',
      help: 'Budget left in the period.',
      labelNames: ['project'],
      registers: r,
    }),
    subscriptions: new client.Gauge({
      name: 'autodev_subscriptions_active',
      help: 'Open GraphQL subscriptions on this process, by field.',
      labelNames: ['field'],
      registers: r,
    }),
    eventDeliveryLatency: new client.Histogram({
      name: 'autodev_event_delivery_latency_seconds',
      help: 'From an event’s commit to its hand-over to a subscriber.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: r,
    }),
    graphqlDuration: new client.Histogram({
      name: 'autodev_graphql_operation_duration_seconds',
      help: 'GraphQL operation execution time, by operation name and type.',
      labelNames: ['operation', 'type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: r,
    }),
    graphqlErrors: new client.Counter({
      name: 'autodev_graphql_errors_total',
      help: 'GraphQL errors returned, by code.',
      labelNames: ['code'],
      registers: r,
    }),
    rateLimited: new client.Counter({
      name: 'autodev_rate_limited_total',
      help: 'Operations refused by a per-token rate limit, by kind (mutation, subscription).',
      labelNames: ['kind'],
      registers: r,
    }),
    subscriptionExecutions: new client.Counter({
      name: 'autodev_subscription_executions_total',
      help: 'Executions of a subscription’s selection for an event: one per event per group of subscribers sharing document, variables, project and role (compare with deliveries).',
      registers: r,
    }),
    slowSubscribersClosed: new client.Counter({
      name: 'autodev_slow_subscribers_closed_total',
      help: 'WebSockets closed (1008) because the client stopped reading.',
      registers: r,
    }),
    workerRunning: new client.Gauge({ name: 'autodev_worker_running', help: '1 while this process runs a worker.', registers: r }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_OPERATION_NAMES = 200;

/** Client-chosen operation names as a bounded label: the first 200 distinct names, then "other". */
export function operationLabel(seen: Set<string>, name: string | undefined | null): string {
  if (!name) return 'anonymous';
  if (!NAME.test(name)) return 'other';
  if (seen.has(name)) return name;
  if (seen.size >= MAX_OPERATION_NAMES) return 'other';
  seen.add(name);
  return name;
}
