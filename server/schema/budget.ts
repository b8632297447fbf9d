import { setBudget } from '../budgets/set-budget.ts';
import { builder } from './builder.ts';
import { principalOf } from './context.ts';
import { BudgetPeriodEnum } from './enums.ts';

builder.prismaObject('Budget', {
  fields: (t) => ({
    id: t.exposeID('id'),
    period: t.expose('period', { type: BudgetPeriodEnum }),
    periodStart: t.expose('periodStart', { type: 'DateTime' }),
    limitUsd: t.float({ select: { limitUsd: true }, resolve: (b) => Number(b.limitUsd) }),
    spentUsd: t.float({ select: { spentUsd: true }, resolve: (b) => Number(b.spentUsd) }),
    remainingUsd: t.float({
      select: { limitUsd: true, spentUsd: true },
      resolve: (b) => Math.max(0, Number(b.limitUsd) - Number(b.spentUsd)),
    }),
    percentUsed: t.float({
      select: { limitUsd: true, spentUsd: true },
      resolve: (b) => (Number(b.limitUsd) > 0 ? (Number(b.spentUsd) / Number(b.limitUsd)) * 100 : 100),
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
      const id = await setBudget(ctx.services.pool, { projectId: principalOf(ctx).projectId, limitUsd: input.limitUsd, period: input.period ?? 'MONTHLY' });
      return ctx.services.db.budget.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);
