import { notFound } from '../errors.ts';
import type { JobEventRecord } from '../jobs/job-event.ts';
import { jobEventStream, projectEventStream } from '../realtime/job-event-stream.ts';
import { builder } from './builder.ts';
import { principalOf, type GraphQLContext } from './context.ts';
import { JobEventTypeEnum, JobStateEnum } from './enums.ts';
import { isId } from './ids.ts';
import { largeField } from './large-field.ts';

// Fields read only scalar columns, so live events (published JSON) and rows from the table
// resolve the same way.
builder.prismaObject('JobEvent', {
  // Select mode, every small column in the type's own select (as for Job in job.ts).
  select: {
    id: true,
    seq: true,
    jobId: true,
    type: true,
    fromState: true,
    toState: true,
    actor: true,
    attemptNumber: true,
    createdAt: true,
  },
  fields: (t) => ({
    id: t.id({ resolve: (e) => String(e.id) }),
    seq: t.int({ resolve: (e) => e.seq }),
    jobId: t.id({ resolve: (e) => e.jobId }),
    type: t.field({ type: JobEventTypeEnum, resolve: (e) => e.type }),
    fromState: t.field({ type: JobStateEnum, nullable: true, resolve: (e) => e.fromState }),
    toState: t.field({ type: JobStateEnum, nullable: true, resolve: (e) => e.toState }),
    message: t.string({ nullable: true, resolve: largeField('JobEvent.message') }),
    data: t.field({ type: 'JSON', nullable: true, resolve: largeField('JobEvent.data') }),
    actor: t.string({ resolve: (e) => e.actor }),
    attemptNumber: t.int({ nullable: true, resolve: (e) => e.attemptNumber }),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.createdAt }),
  }),
});

// A job's stream has one subscriber, whose connection closes (1008) when the stream's bound is
// passed; a project's stream is shared by its subscribers (see realtime/subscription-group.ts),
// each bounded on its own connection, so its bound ends the stream for all without closing any.
const streamLimits = (ctx: GraphQLContext, shared: boolean) => ({
  maxPendingBytes: ctx.services.config.limits.subscriberBufferBytes,
  onOverflow: shared ? undefined : ctx.closeConnection,
});

// A published event has the row's shape, with JSON-friendly id and createdAt.
const asRow = (e: JobEventRecord) => ({ ...e, id: BigInt(e.id), createdAt: new Date(e.createdAt) }) as never;

builder.subscriptionFields((t) => ({
  jobEvents: t.prismaField({
    type: 'JobEvent',
    authScopes: { viewer: true },
    description:
      'The events of one job after `afterSeq` (default 0: all of them), replayed from storage, then live. ' +
      'Completes after the event of the job reaching a terminal state (SUCCEEDED, FAILED, REJECTED, CANCELLED, BUDGET_EXCEEDED) has been delivered, ' +
      'so subscribing to a finished job replays its events and completes; anything appended after it (a late log line) is in `Job.events`.',
    args: { jobId: t.arg.id({ required: true }), afterSeq: t.arg.int({ defaultValue: 0 }) },
    subscribe: async (_root, args, ctx) => {
      const p = principalOf(ctx);
      const job = isId(args.jobId)
        ? await ctx.services.db.job.findFirst({ where: { id: args.jobId, projectId: p.projectId }, select: { id: true } })
        : null;
      if (!job) throw notFound(`Job ${args.jobId}`);
      return jobEventStream(ctx.services, job.id, Math.max(0, args.afterSeq ?? 0), streamLimits(ctx, false));
    },
    resolve: (_query, event) => asRow(event),
  }),
  projectEvents: t.prismaField({
    type: 'JobEvent',
    authScopes: { viewer: true },
    description: "Every event of the project's jobs from now on. Stays open (it never completes on its own).",
    subscribe: (_root, _args, ctx) => projectEventStream(ctx.services, principalOf(ctx).projectId, streamLimits(ctx, true)),
    resolve: (_query, event) => asRow(event),
  }),
}));
