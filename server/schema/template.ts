import { typicalCosts } from '../budgets/spend-report.ts';
import { upsertTemplate } from '../templates/upsert-template.ts';
import { builder } from './builder.ts';
import { checkCursors } from './cursor.ts';
import { oncePerRequest, principalOf } from './context.ts';
import { largeField } from './large-field.ts';

function withoutNulls(value: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => [k, k === 'executor' ? withoutNulls(v as object) : v]),
  );
}

builder.prismaObject('Template', {
  // Select mode, every small column in the type's own select (as for Job in job.ts).
  select: {
    id: true,
    slug: true,
    version: true,
    name: true,
    requiresReview: true,
    maxAttempts: true,
    timeoutSeconds: true,
    executor: true,
    createdAt: true,
    updatedAt: true,
  },
  fields: (t) => ({
    id: t.id({ resolve: (tpl) => tpl.id }),
    slug: t.string({ resolve: (tpl) => tpl.slug }),
    version: t.int({ resolve: (tpl) => tpl.version }),
    name: t.string({ resolve: (tpl) => tpl.name }),
    description: t.string({ resolve: largeField('Template.description') }),
    requiresReview: t.boolean({ resolve: (tpl) => tpl.requiresReview }),
    maxAttempts: t.int({ resolve: (tpl) => tpl.maxAttempts }),
    timeoutSeconds: t.int({ resolve: (tpl) => tpl.timeoutSeconds }),
    crew: t.field({
      type: 'JSON',
      description: 'Agents (role, goal, backstory, model) and tasks (description, expected output, agent).',
      resolve: largeField('Template.crew'),
    }),
    inputSchema: t.field({
      type: 'JSON',
      description: 'JSON Schema every job input must satisfy.',
      resolve: largeField('Template.inputSchema'),
    }),
    outputSchema: t.field({
      type: 'JSON',
      description: 'JSON Schema the crew output must satisfy.',
      resolve: largeField('Template.outputSchema'),
    }),
    executor: t.field({ type: 'JSON', resolve: (tpl) => tpl.executor }),
    workspace: t.field({
      type: 'JSON',
      nullable: true,
      description:
        'Agent runtime: the job-input fields naming the repository and ref ({repositoryField, refField}); null → no workspace unless agents have tools.',
      resolve: largeField('Template.workspace'),
    }),
    checks: t.field({
      type: 'JSON',
      description: 'Agent runtime: commands run in the sandbox on the final workspace ([{name, command, timeoutSeconds}]).',
      resolve: largeField('Template.checks'),
    }),
    typicalCostUsd: t.float({
      nullable: true,
      description: "Mean cost of this template's succeeded jobs in the project (null before the first one).",
      select: { id: true, projectId: true },
      resolve: async (tpl, _args, ctx) => {
        const costs = await oncePerRequest(ctx, `typicalCosts:${tpl.projectId}`, () => typicalCosts(ctx.services.pool, tpl.projectId));
        return costs.get(tpl.id) ?? null;
      },
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (tpl) => tpl.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (tpl) => tpl.updatedAt }),
  }),
});

builder.queryFields((t) => ({
  templates: t.prismaConnection({
    type: 'Template',
    cursor: 'id',
    authScopes: { viewer: true },
    resolve: async (query, _root, args, ctx) => {
      await checkCursors(ctx, 'Template', args);
      return ctx.services.db.template.findMany({ ...query, where: { projectId: principalOf(ctx).projectId }, orderBy: { slug: 'asc' } });
    },
  }),
  template: t.prismaField({
    type: 'Template',
    nullable: true,
    authScopes: { viewer: true },
    args: { slug: t.arg.string({ required: true }) },
    resolve: (query, _root, args, ctx) =>
      ctx.services.db.template.findUnique({
        ...query,
        where: { projectId_slug: { projectId: principalOf(ctx).projectId, slug: args.slug } },
      }),
  }),
}));

const ExecutorInput = builder.inputType('ExecutorInput', {
  fields: (t) => ({
    kind: t.string({ required: true, description: 'local, inline or kubernetes' }),
    image: t.string(),
    env: t.stringList({
      description:
        'Names of environment variables the runner may receive: CI, NODE_ENV, TERM, NO_COLOR, FORCE_COLOR, LANGUAGE, LANG, LC_ALL, TZ and those the operator allows (AUTODEV_RUNNER_ENV_ALLOW); others are refused with BAD_USER_INPUT.',
    }),
    resources: t.field({ type: 'JSON' }),
  }),
});

const TemplateInput = builder.inputType('TemplateInput', {
  fields: (t) => ({
    slug: t.string({ required: true }),
    name: t.string({ required: true }),
    description: t.string(),
    requiresReview: t.boolean(),
    maxAttempts: t.int(),
    timeoutSeconds: t.int(),
    crew: t.field({ type: 'JSON', required: true }),
    inputSchema: t.field({ type: 'JSON', required: true }),
    outputSchema: t.field({ type: 'JSON', required: true }),
    executor: t.field({ type: ExecutorInput }),
    workspace: t.field({
      type: 'JSON',
      description: '{repositoryField, refField}: the job-input fields naming the repository and ref the crew works in.',
    }),
    checks: t.field({
      type: 'JSON',
      description:
        '[{name, command, timeoutSeconds}]: commands run in the sandbox on the final workspace; a failing one fails the attempt retryably.',
    }),
  }),
});

builder.mutationField('upsertTemplate', (t) =>
  t.prismaField({
    type: 'Template',
    authScopes: { admin: true },
    description: 'Creates a template or updates it (bumping its version). Jobs keep the version they were created from.',
    args: { input: t.arg({ type: TemplateInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const projectId = principalOf(ctx).projectId;
      // Only the fields the caller sent: the template schema decides defaults and validity.
      const definition = withoutNulls(input);
      const id = await upsertTemplate(ctx.services.pool, projectId, definition, {
        runnerEnvAllow: ctx.services.config.runnerEnvAllow,
        sandboxNetwork: ctx.services.config.sandboxNetwork,
        models: ctx.services.config.model,
      });
      return ctx.services.db.template.findUniqueOrThrow({ ...query, where: { id: id! } });
    },
  }),
);
