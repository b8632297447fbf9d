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
  // Select mode: a row is read with only the columns its selected fields need (large ones never, see large-field.ts).
  select: { id: true },
  fields: (t) => ({
    id: t.id({ select: { id: true }, resolve: (e) => String(e.id) }),
    seq: t.exposeInt('seq'),
    jobId: t.exposeID('jobId'),
    type: t.expose('type', { type: JobEventTypeEnum }),
    fromState: t.expose('fromState', { type: JobStateEnum, nullable: true }),
    toState: t.expose('toState', { type: JobStateEnum, nullable: true }),
    message: t.string({ nullable: true, select: { id: true }, resolve: largeField('JobEvent.message') }),
    data: t.field({ type: 'JSON', nullable: true, select: { id: true }, resolve: largeField('JobEvent.data') }),
    actor: t.exposeString('actor'),
    attemptNumber: t.exposeInt('attemptNumber', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const streamLimits = (ctx: GraphQLContext) => ({
  maxPendingBytes: ctx.services.config.limits.subscriberBufferBytes,
  onOverflow: ctx.closeConnection,
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
      return jobEventStream(ctx.services, job.id, Math.max(0, args.afterSeq ?? 0), streamLimits(ctx));
    },
    resolve: (_query, event) => asRow(event),
  }),
  projectEvents: t.prismaField({
    type: 'JobEvent',
    authScopes: { viewer: true },
    description: "Every event of the project's jobs from now on. Stays open (it never completes on its own).",
    subscribe: (_root, _args, ctx) => projectEventStream(ctx.services, principalOf(ctx).projectId, streamLimits(ctx)),
    resolve: (_query, event) => asRow(event),
  }),
}));
