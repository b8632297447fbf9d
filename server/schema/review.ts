import { notFound } from '../errors.ts';
import { decideReview, type Decision } from '../reviews/decide-review.ts';
import { builder } from './builder.ts';
import { checkCursors } from './cursor.ts';
import { principalOf, type GraphQLContext } from './context.ts';
import { ReviewStatusEnum } from './enums.ts';
import { isId } from './ids.ts';
import { largeField } from './large-field.ts';

export const ReviewRef = builder.prismaObject('Review', {
  // Select mode: a row is read with only the columns its selected fields need (large ones never, see large-field.ts).
  select: { id: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    status: t.expose('status', { type: ReviewStatusEnum }),
    job: t.relation('job'),
    attempt: t.relation('attempt', { nullable: true }),
    output: t.field({
      type: 'JSON',
      nullable: true,
      description: 'The output under review (the crew’s).',
      resolve: largeField('Review.output'),
    }),
    editedOutput: t.field({
      type: 'JSON',
      nullable: true,
      description: 'The reviewer’s edited output, when the approval carried one: it is the job’s output.',
      resolve: largeField('Review.editedOutput'),
    }),
    comment: t.string({ nullable: true, resolve: largeField('Review.comment') }),
    feedback: t.string({
      nullable: true,
      description: 'What the reviewer asked to change.',
      resolve: largeField('Review.feedback'),
    }),
    decidedBy: t.exposeString('decidedBy', { nullable: true }),
    decidedAt: t.expose('decidedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('reviews', (t) =>
  t.prismaConnection({
    type: 'Review',
    cursor: 'id',
    authScopes: { viewer: true },
    description: "The project's reviews, oldest first (a queue).",
    args: { status: t.arg({ type: ReviewStatusEnum }) },
    resolve: async (query, _root, args, ctx) => {
      await checkCursors(ctx, 'Review', args);
      return ctx.services.db.review.findMany({
        ...query,
        where: { job: { projectId: principalOf(ctx).projectId }, ...(args.status ? { status: args.status } : {}) },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
    },
  }),
);

async function decide(
  ctx: GraphQLContext,
  id: string,
  decision: Decision,
  text: string | null | undefined,
  more: { fromTask?: string | null; editedOutput?: unknown } = {},
) {
  const p = principalOf(ctx);
  if (!isId(id)) throw notFound(`Review ${id}`);
  await decideReview(ctx.services, {
    projectId: p.projectId,
    reviewId: id,
    decision,
    text,
    ...more,
    actor: { tokenId: p.tokenId, name: p.name },
  });
}

builder.mutationFields((t) => ({
  approveReview: t.prismaField({
    type: 'Review',
    authScopes: { reviewer: true },
    description:
      'Approves the output; the job SUCCEEDS. With `output`, the reviewer’s edited output becomes the job’s output (kept as Review.editedOutput beside the crew’s), ' +
      'once it passes the template’s output guardrails (output schema, size, no secrets); otherwise BAD_USER_INPUT lists the violations and nothing changes.',
    args: {
      id: t.arg.id({ required: true }),
      comment: t.arg.string(),
      output: t.arg({ type: 'JSON', description: 'An edited output to approve instead of the crew’s.' }),
    },
    resolve: async (query, _root, args, ctx) => {
      await decide(
        ctx,
        args.id,
        'APPROVE',
        args.comment,
        args.output === undefined || args.output === null ? {} : { editedOutput: args.output },
      );
      return ctx.services.db.review.findUniqueOrThrow({ ...query, where: { id: args.id } });
    },
  }),
  rejectReview: t.prismaField({
    type: 'Review',
    authScopes: { reviewer: true },
    args: { id: t.arg.id({ required: true }), comment: t.arg.string({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      await decide(ctx, args.id, 'REJECT', args.comment);
      return ctx.services.db.review.findUniqueOrThrow({ ...query, where: { id: args.id } });
    },
  }),
  requestChanges: t.prismaField({
    type: 'Review',
    authScopes: { reviewer: true },
    description:
      "Sends the job back for another attempt with the feedback. The attempt runs from `fromTask` (default: the crew's last task) with the feedback; " +
      'the tasks before it are not run (or charged) again — their checkpointed outputs are reused.',
    args: {
      id: t.arg.id({ required: true }),
      feedback: t.arg.string({ required: true }),
      fromTask: t.arg.string({ description: 'The id of the crew task to run again from (default: the last task).' }),
    },
    resolve: async (query, _root, args, ctx) => {
      await decide(ctx, args.id, 'REQUEST_CHANGES', args.feedback, { fromTask: args.fromTask });
      return ctx.services.db.review.findUniqueOrThrow({ ...query, where: { id: args.id } });
    },
  }),
}));
