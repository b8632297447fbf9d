// GraphQL for live, interruptible crews: what a waiting job asks (Job.inputRequest), the answer
// (provideInput), and the task checkpoints later attempts resume from (Job.checkpoints).
import { usd } from '../budgets/money.ts';
import { notFound } from '../errors.ts';
import { provideInput } from '../jobs/provide-input.ts';
import { builder } from './builder.ts';
import { principalOf } from './context.ts';
import { isId } from './ids.ts';
import { largeField } from './large-field.ts';

interface InputRequestShape {
  task: string;
  question: string;
  askedAt: string;
  expiresAt: Date | null;
  onTimeout: string | null;
}

const InputRequest = builder.objectRef<InputRequestShape>('InputRequest').implement({
  description: 'What a job waiting for input (AWAITING_INPUT) asks; answer it with provideInput.',
  fields: (t) => ({
    task: t.exposeString('task', { description: 'The task that asked (its output is in Job.checkpoints).' }),
    question: t.exposeString('question'),
    askedAt: t.field({ type: 'DateTime', resolve: (r) => new Date(r.askedAt) }),
    expiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: "When the wait ends on its own (the task's inputTimeoutSeconds); null: it waits until answered or cancelled.",
      resolve: (r) => r.expiresAt,
    }),
    onTimeout: t.exposeString('onTimeout', {
      nullable: true,
      description: 'What the timeout does: fail, cancel or continue (without an answer).',
    }),
  }),
});

builder.prismaObjectField('Job', 'inputRequest', (t) =>
  t.field({
    type: InputRequest,
    nullable: true,
    description: 'While the job is AWAITING_INPUT: the question it asks. Null otherwise.',
    select: { inputRequest: true, inputExpiresAt: true, state: true },
    resolve: (job) => {
      const r = job.inputRequest as { task: string; question: string; askedAt: string; onTimeout?: string } | null;
      return r && job.state === 'AWAITING_INPUT' ? { ...r, expiresAt: job.inputExpiresAt, onTimeout: r.onTimeout ?? null } : null;
    },
  }),
);

builder.prismaObject('TaskCheckpoint', {
  select: { id: true },
  description: 'A task an attempt completed: what later attempts of the job resume from instead of running it again.',
  fields: (t) => ({
    id: t.id({ resolve: (c) => String(c.id) }),
    task: t.exposeString('task'),
    taskIndex: t.exposeInt('taskIndex'),
    attemptNumber: t.exposeInt('attemptNumber', { description: 'The attempt that ran the task (and paid for it).' }),
    output: t.string({
      resolve: async (c, args, ctx) => (await largeField('TaskCheckpoint.output')(c, args, ctx)) ?? '',
    }),
    inputTokens: t.exposeInt('inputTokens'),
    outputTokens: t.exposeInt('outputTokens'),
    costUsd: t.float({
      select: { costUsd: true },
      description: "What the task's model calls were charged.",
      resolve: (c) => usd(c.costUsd),
    }),
    commit: t.exposeString('commit', { nullable: true, description: "Agent runtime: the workspace's checkpoint commit after the task." }),
    resumable: t.exposeBoolean('resumable', {
      description: 'False when the workspace change was too large to keep: later tasks run again from here.',
    }),
    question: t.string({ nullable: true, resolve: largeField('TaskCheckpoint.question') }),
    answer: t.string({ nullable: true, resolve: largeField('TaskCheckpoint.answer') }),
    answeredBy: t.exposeString('answeredBy', { nullable: true }),
    answeredAt: t.expose('answeredAt', { type: 'DateTime', nullable: true }),
    superseded: t.boolean({
      select: { supersededAt: true },
      description: 'Set aside by requestChanges(fromTask) or a failed result: never resumed from.',
      resolve: (c) => c.supersededAt !== null,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectField('Job', 'checkpoints', (t) =>
  t.relation('checkpoints', {
    description: "The job's task checkpoints, oldest first (superseded ones included, marked).",
    query: { orderBy: { id: 'asc' }, take: 500 },
  }),
);

builder.mutationField('provideInput', (t) =>
  t.prismaField({
    type: 'Job',
    // OPERATOR (and above): the question steers a running crew, as creating and cancelling it do;
    // deciding on a finished output stays the REVIEWER's (approveReview).
    authScopes: { operator: true },
    description:
      "Answers the question of a job waiting for input (AWAITING_INPUT): the job is queued again and resumes after the asking task, on any worker, with the answer in the next tasks' context. " +
      'A job not waiting (or answered first by someone else) is a CONFLICT.',
    args: { jobId: t.arg.id({ required: true }), answer: t.arg.string({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const p = principalOf(ctx);
      if (!isId(args.jobId)) throw notFound(`Job ${args.jobId}`);
      await provideInput(ctx.services, { projectId: p.projectId, jobId: args.jobId, answer: args.answer, actor: p.name });
      return ctx.services.db.job.findUniqueOrThrow({ ...query, where: { id: args.jobId } });
    },
  }),
);
