// jobOutput: the model's text of a job as it is written (live deltas) and after each step (the
// stored complete message). See server/realtime/job-output-stream.ts.
import { notFound } from '../errors.ts';
import { jobOutputStream, type JobOutputItem } from '../realtime/job-output-stream.ts';
import { builder } from './builder.ts';
import { principalOf } from './context.ts';
import { isId } from './ids.ts';

const OutputKind = builder.enumType('JobOutputKind', {
  values: {
    DELTA: { description: 'Text as it is written (live only, never stored); `offset` is where it starts in the step’s text.' },
    MESSAGE: { description: 'A model step’s complete text, stored as a MESSAGE job event (`seq`): it replaces the step’s deltas.' },
    END: { description: 'The job reached a terminal state (`seq` of that event); the stream then completes.' },
  } as const,
});

const JobOutput = builder.objectRef<JobOutputItem>('JobOutput').implement({
  description: 'One item of a job’s model output (jobOutput).',
  fields: (t) => ({
    kind: t.field({ type: OutputKind, resolve: (i) => i.kind }),
    seq: t.int({
      nullable: true,
      description: 'MESSAGE and END: the job event’s seq (resume with afterSeq).',
      resolve: (i) => (i.kind === 'DELTA' ? null : i.event.seq),
    }),
    attemptNumber: t.int({ nullable: true, resolve: (i) => (i.kind === 'DELTA' ? i.delta.attemptNumber : i.event.attemptNumber) }),
    task: t.string({
      nullable: true,
      resolve: (i) =>
        i.kind === 'DELTA' ? i.delta.task : i.kind === 'MESSAGE' ? ((i.event.data as { task?: string } | null)?.task ?? '') : null,
    }),
    agent: t.string({
      nullable: true,
      resolve: (i) =>
        i.kind === 'DELTA'
          ? i.delta.agent
          : i.kind === 'MESSAGE'
            ? ((i.event.data as { agent?: string | null } | null)?.agent ?? null)
            : null,
    }),
    step: t.int({
      nullable: true,
      description: 'The model step within the task (0, 1, …).',
      resolve: (i) =>
        i.kind === 'DELTA' ? i.delta.step : i.kind === 'MESSAGE' ? ((i.event.data as { step?: number } | null)?.step ?? null) : null,
    }),
    offset: t.int({
      nullable: true,
      description: 'DELTA: characters of the step’s text before this delta (a gap or a repeat shows here).',
      resolve: (i) => (i.kind === 'DELTA' ? i.delta.offset : null),
    }),
    text: t.string({
      resolve: (i) =>
        i.kind === 'DELTA' ? i.delta.text : i.kind === 'MESSAGE' ? (i.event.message ?? '') : `The job is ${i.event.toState}.`,
    }),
    state: t.string({
      nullable: true,
      description: 'END: the terminal state.',
      resolve: (i) => (i.kind === 'END' ? i.event.toState : null),
    }),
  }),
});

builder.subscriptionField('jobOutput', (t) =>
  t.field({
    type: JobOutput,
    authScopes: { viewer: true },
    description:
      'The model’s text of one job: live DELTA items while a step is written (coalesced by the runner, at most about 10 a second per task; never stored), ' +
      'and each step’s complete MESSAGE (stored; those after `afterSeq` are replayed first). A client that reconnects mid-step gets the deltas from then on and the complete message when the step ends. ' +
      'Completes after an END item when the job reaches a terminal state.',
    args: { jobId: t.arg.id({ required: true }), afterSeq: t.arg.int({ defaultValue: 0 }) },
    subscribe: async (_root, args, ctx) => {
      const p = principalOf(ctx);
      const job = isId(args.jobId)
        ? await ctx.services.db.job.findFirst({ where: { id: args.jobId, projectId: p.projectId }, select: { id: true } })
        : null;
      if (!job) throw notFound(`Job ${args.jobId}`);
      return jobOutputStream(ctx.services, job.id, Math.max(0, args.afterSeq ?? 0), {
        maxPendingBytes: ctx.services.config.limits.subscriberBufferBytes,
        onOverflow: ctx.closeConnection,
      });
    },
    resolve: (item) => item,
  }),
);
