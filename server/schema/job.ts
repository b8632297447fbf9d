import { usd, usdOrNull } from '../budgets/money.ts';
import { cancelJob } from '../jobs/cancel-job.ts';
import { createJob, type NewJobColumns } from '../intake/create-job.ts';
import { Prisma, type Job } from '../db/generated/client.ts';
import { notFound } from '../errors.ts';
import { signArtifactPath } from '../storage/signed-url.ts';
import { downloadFilename } from '../storage/artifact-store.ts';
import { builder } from './builder.ts';
import { checkCursors } from './cursor.ts';
import { principalOf } from './context.ts';
import { AttemptStateEnum, JobStateEnum } from './enums.ts';
import { isId } from './ids.ts';
import { ReviewRef } from './review.ts';
import { largeField } from './large-field.ts';
import { readLargeFieldsAhead } from './large-field-read-ahead.ts';
import { EVENTS_PAGE } from './page-size.ts';

// Select mode, with every small column in the type's own select: a row is read with all of them and never
// with a large one (see large-field.ts). Their fields resolve from the row. (An `expose` would plan its
// column per query instead, and Pothos then looks up the row's selection for every row and field it
// resolves: ~3,000 lookups for one `jobs(first: 50)` page with attempts and events.)
const JOB_COLUMNS = {
  id: true,
  state: true,
  templateVersion: true,
  idempotencyKey: true,
  costUsd: true,
  maxCostUsd: true,
  attemptCount: true,
  createdBy: true,
  createdAt: true,
  updatedAt: true,
  finishedAt: true,
} as const;

builder.prismaObject('Job', {
  select: JOB_COLUMNS,
  fields: (t) => ({
    id: t.id({ resolve: (job) => job.id }),
    state: t.field({ type: JobStateEnum, resolve: (job) => job.state }),
    template: t.relation('template'),
    templateVersion: t.int({ resolve: (job) => job.templateVersion }),
    input: t.field({ type: 'JSON', resolve: largeField('Job.input') }),
    output: t.field({ type: 'JSON', nullable: true, resolve: largeField('Job.output') }),
    idempotencyKey: t.string({ nullable: true, resolve: (job) => job.idempotencyKey }),
    costUsd: t.float({ resolve: (job) => usd(job.costUsd) }),
    maxCostUsd: t.float({ nullable: true, resolve: (job) => usdOrNull(job.maxCostUsd) }),
    attemptCount: t.int({ resolve: (job) => job.attemptCount }),
    feedback: t.string({
      nullable: true,
      description: 'Reviewer feedback waiting for the next attempt.',
      resolve: largeField('Job.feedback'),
    }),
    lastError: t.string({ nullable: true, resolve: largeField('Job.lastError') }),
    createdBy: t.string({ resolve: (job) => job.createdBy }),
    createdAt: t.field({ type: 'DateTime', resolve: (job) => job.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (job) => job.updatedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (job) => job.finishedAt }),
    // Connections: a job's attempts and events grow with retries, reviews and runners' output. Prisma
    // resolves a nested cursor within the relation, so another job's cursor pages nothing here
    // (job-connections.test.ts).
    attempts: t.relatedConnection('attempts', {
      cursor: 'jobId_number',
      description: 'The attempts, oldest first; `last: n` gives the latest n.',
      query: { orderBy: { number: 'asc' } },
    }),
    events: t.relatedConnection('events', {
      cursor: 'jobId_seq',
      description: `The job’s events in seq order, after \`afterSeq\` (a \`seq\` the caller holds, e.g. from \`jobEvents\`) and after \`after\`: pages of \`first\` (default ${EVENTS_PAGE.default}, at most ${EVENTS_PAGE.max}; more is BAD_USER_INPUT).`,
      args: { afterSeq: t.arg.int({ defaultValue: 0 }) },
      defaultSize: EVENTS_PAGE.default,
      maxSize: EVENTS_PAGE.max,
      query: (args) => ({ where: { seq: { gt: args.afterSeq ?? 0 } }, orderBy: { seq: 'asc' } }),
    }),
    review: t.field({
      type: ReviewRef,
      nullable: true,
      description: 'The most recent review of this job.',
      // Only the columns the query asks for (a whole row would read the output under review).
      select: (_args, _ctx, nestedSelection) => ({ reviews: nestedSelection({ orderBy: { createdAt: 'desc' }, take: 1 }) }),
      resolve: (job) => job.reviews[0] ?? null,
    }),
    reviews: t.relation('reviews', { query: { orderBy: { createdAt: 'asc' } } }),
    artifacts: t.relation('artifacts', { query: { orderBy: { createdAt: 'asc' } } }),
  }),
});

builder.prismaObject('JobAttempt', {
  // Select mode, every small column in the type's own select (as for Job).
  select: {
    id: true,
    number: true,
    state: true,
    executor: true,
    startedAt: true,
    finishedAt: true,
    errorCode: true,
    costUsd: true,
    inputTokens: true,
    outputTokens: true,
    baseCommit: true,
  },
  fields: (t) => ({
    id: t.id({ resolve: (a) => a.id }),
    number: t.int({ resolve: (a) => a.number }),
    state: t.field({ type: AttemptStateEnum, resolve: (a) => a.state }),
    executor: t.string({ resolve: (a) => a.executor }),
    startedAt: t.field({ type: 'DateTime', resolve: (a) => a.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.finishedAt }),
    exitReason: t.string({ nullable: true, resolve: largeField('JobAttempt.exitReason') }),
    errorCode: t.string({ nullable: true, resolve: (a) => a.errorCode }),
    costUsd: t.float({ resolve: (a) => usd(a.costUsd) }),
    inputTokens: t.int({ resolve: (a) => a.inputTokens }),
    outputTokens: t.int({ resolve: (a) => a.outputTokens }),
    guardrailResults: t.field({ type: 'JSON', nullable: true, resolve: largeField('JobAttempt.guardrailResults') }),
    output: t.field({ type: 'JSON', nullable: true, resolve: largeField('JobAttempt.output') }),
    feedback: t.string({
      nullable: true,
      description: 'Reviewer feedback this attempt was given.',
      resolve: largeField('JobAttempt.feedback'),
    }),
    baseCommit: t.string({
      nullable: true,
      resolve: (a) => a.baseCommit,
      description: "The commit the attempt's workspace started from: changes.patch applies on it (agent runtime; null otherwise).",
    }),
    artifacts: t.relation('artifacts'),
  }),
});

builder.prismaObject('Artifact', {
  fields: (t) => ({
    id: t.exposeID('id'),
    path: t.exposeString('path'),
    contentType: t.exposeString('contentType'),
    sizeBytes: t.exposeInt('sizeBytes'),
    sha256: t.exposeString('sha256'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    downloadUrl: t.string({
      description:
        'A signed link to the file, valid for one hour (no Authorization header needed): the API itself, or the S3 bucket when artifacts are kept in S3.',
      select: { id: true, storageKey: true, path: true, contentType: true },
      resolve: (a, _args, ctx) => {
        const store = ctx.services.artifacts;
        if (store.presignedUrl)
          return store.presignedUrl(a.storageKey, { filename: downloadFilename(a.path), contentType: a.contentType }, 3600);
        return ctx.origin + signArtifactPath(ctx.services.signingKey, a.id, Date.now() + 3600_000);
      },
    }),
  }),
});

const JobFilter = builder.inputType('JobFilter', {
  fields: (t) => ({
    states: t.field({ type: [JobStateEnum] }),
    templateSlug: t.string(),
  }),
});

builder.queryFields((t) => ({
  jobs: t.prismaConnection({
    type: 'Job',
    cursor: 'id',
    description: "The project's jobs, newest first.",
    authScopes: { viewer: true },
    args: { filter: t.arg({ type: JobFilter }) },
    resolve: async (query, _root, args, ctx, info) => {
      await checkCursors(ctx, 'Job', args);
      const rows = await ctx.services.db.job.findMany({
        ...query,
        where: {
          projectId: principalOf(ctx).projectId,
          ...(args.filter?.states?.length ? { state: { in: args.filter.states } } : {}),
          ...(args.filter?.templateSlug ? { template: { slug: args.filter.templateSlug } } : {}),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      });
      await readLargeFieldsAhead(ctx, info, 'Job', rows);
      return rows;
    },
  }),
  job: t.prismaField({
    type: 'Job',
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) =>
      isId(args.id) ? ctx.services.db.job.findFirst({ ...query, where: { id: args.id, projectId: principalOf(ctx).projectId } }) : null,
  }),
}));

const CreateJobInput = builder.inputType('CreateJobInput', {
  fields: (t) => ({
    templateSlug: t.string({ required: true }),
    input: t.field({ type: 'JSON', required: true, description: "Must satisfy the template's input schema." }),
    idempotencyKey: t.string({ description: 'The same key in the same project returns the same job.' }),
    maxCostUsd: t.float({ description: 'Stop the job (BUDGET_EXCEEDED) before it spends more than this.' }),
  }),
});

builder.mutationFields((t) => ({
  createJob: t.prismaField({
    type: 'Job',
    authScopes: { operator: true },
    args: { input: t.arg({ type: CreateJobInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const p = principalOf(ctx);
      const { jobId, columns } = await createJob(ctx.services, {
        projectId: p.projectId,
        templateSlug: input.templateSlug,
        input: input.input,
        idempotencyKey: input.idempotencyKey,
        maxCostUsd: input.maxCostUsd,
        createdById: p.tokenId,
        createdBy: p.name,
      });
      // A selection of the job's own columns only (no relation): the row the insert returned, without
      // reading it again through Prisma (~10 % of createJob's CPU in the lifecycle benchmark).
      if (columns && ownColumnsOnly(query)) return jobFromColumns(columns);
      return ctx.services.db.job.findUniqueOrThrow({ ...query, where: { id: jobId } });
    },
  }),
  cancelJob: t.prismaField({
    type: 'Job',
    authScopes: { operator: true },
    args: { id: t.arg.id({ required: true }), reason: t.arg.string() },
    resolve: async (query, _root, args, ctx) => {
      const p = principalOf(ctx);
      if (!isId(args.id)) throw notFound(`Job ${args.id}`);
      await cancelJob(ctx.services, { projectId: p.projectId, jobId: args.id, actor: p.name, reason: args.reason });
      return ctx.services.db.job.findUniqueOrThrow({ ...query, where: { id: args.id } });
    },
  }),
}));

/** Whether Pothos' query for a Job asks for nothing beyond the type's own columns (no relation). */
function ownColumnsOnly(query: object): boolean {
  const keys = Object.keys(query);
  if (keys.length !== 1 || keys[0] !== 'select') return false;
  return Object.entries((query as { select: Record<string, unknown> }).select).every(
    ([column, wanted]) => wanted === true && Object.hasOwn(JOB_COLUMNS, column),
  );
}

/**
 * The Job type's row from a new job's columns, with money as Prisma reads it (Decimal). Pothos types
 * a prismaField's result as the whole model, yet in select mode the row holds only the selected
 * columns (findUniqueOrThrow({ ...query }) reads no more): these are all of them.
 */
function jobFromColumns(c: NewJobColumns): Job {
  const row = {
    ...c,
    costUsd: new Prisma.Decimal(c.costUsd),
    maxCostUsd: c.maxCostUsd === null ? null : new Prisma.Decimal(c.maxCostUsd),
  } satisfies Pick<Job, keyof typeof JOB_COLUMNS>;
  return row as Job;
}
