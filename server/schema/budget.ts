import { percentUsed, remainingUsd, usd } from '../budgets/money.ts';
import { setBudget } from '../budgets/set-budget.ts';
import { builder } from './builder.ts';
import { principalOf } from './context.ts';
import { BudgetPeriodEnum } from './enums.ts';

builder.prismaObject('Budget', {
  fields: (t) => ({
    id: t.exposeID('id'),
    period: t.expose('period', { type: BudgetPeriodEnum }),
    periodStart: t.expose('periodStart', { type: 'DateTime' }),
    limitUsd: t.float({ select: { limitUsd: true }, resolve: (b) => usd(b.limitUsd) }),
    spentUsd: t.float({ select: { spentUsd: true }, resolve: (b) => usd(b.spentUsd) }),
    remainingUsd: t.float({
      description: 'limitUsd − spentUsd (never below 0), computed exactly: the number is the stored decimal, without float noise.',
      select: { limitUsd: true, spentUsd: true },
      resolve: (b) => remainingUsd(b.limitUsd, b.spentUsd),
    }),
    percentUsed: t.float({
      description: 'Spent as a percentage of the limit, to two decimals (100 when the limit is 0).',
      select: { limitUsd: true, spentUsd: true },
      resolve: (b) => percentUsed(b.limitUsd, b.spentUsd),
    }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryField('budgets', (t) =>
  t.prismaField({
    type: ['Budget'],
    authScopes: { viewer: true },
    description: "The project's budget (empty when the project has none).",
    resolve: (query, _root, _args, ctx) => ctx.services.db.budget.findMany({ ...query, where: { projectId: principalOf(ctx).projectId } }),
  }),
);

const BudgetInput = builder.inputType('BudgetInput', {
  fields: (t) => ({
    limitUsd: t.float({ required: true }),
    period: t.field({ type: BudgetPeriodEnum, defaultValue: 'MONTHLY' }),
  }),
});

builder.mutationField('setBudget', (t) =>
  t.prismaField({
    type: 'Budget',
    authScopes: { admin: true },
    args: { input: t.arg({ type: BudgetInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const id = await setBudget(ctx.services.pool, {
        projectId: principalOf(ctx).projectId,
        limitUsd: input.limitUsd,
        period: input.period ?? 'MONTHLY',
      });
      return ctx.services.db.budget.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);
