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
    output: t.field({ type: 'JSON', nullable: true, description: 'The output under review.', select: { id: true }, resolve: largeField('Review.output') }),
    comment: t.string({ nullable: true, select: { id: true }, resolve: largeField('Review.comment') }),
    feedback: t.string({ nullable: true, description: 'What the reviewer asked to change.', select: { id: true }, resolve: largeField('Review.feedback') }),
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

async function decide(ctx: GraphQLContext, id: string, decision: Decision, text: string | null | undefined, fromTask?: string | null) {
  const p = principalOf(ctx);
  if (!isId(id)) throw notFound(`Review ${id}`);
  await decideReview(ctx.services, { projectId: p.projectId, reviewId: id, decision, text, fromTask, actor: { tokenId: p.tokenId, name: p.name } });
}

builder.mutationFields((t) => ({
  approveReview: t.prismaField({
    type: 'Review',
    authScopes: { reviewer: true },
    args: { id: t.arg.id({ required: true }), comment: t.arg.string() },
    resolve: async (query, _root, args, ctx) => {
      await decide(ctx, args.id, 'APPROVE', args.comment);
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
      'Sends the job back for another attempt with the feedback. The attempt runs from `fromTask` (default: the crew\'s last task) with the feedback; ' +
      'the tasks before it are not run (or charged) again — their checkpointed outputs are reused.',
    args: {
      id: t.arg.id({ required: true }),
      feedback: t.arg.string({ required: true }),
      fromTask: t.arg.string({ description: 'The id of the crew task to run again from (default: the last task).' }),
    },
    resolve: async (query, _root, args, ctx) => {
      await decide(ctx, args.id, 'REQUEST_CHANGES', args.feedback, args.fromTask);
      return ctx.services.db.review.findUniqueOrThrow({ ...query, where: { id: args.id } });
    },
  }),
}));
