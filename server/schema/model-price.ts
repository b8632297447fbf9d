import { usd } from '../budgets/money.ts';
import { setModelPrice } from '../budgets/model-prices.ts';
import { requireInstanceAdmin } from '../projects/instance-admin.ts';
import { builder } from './builder.ts';
import { principalOf } from './context.ts';

builder.prismaObject('ModelPrice', {
  description: 'What a model costs, in USD per million tokens. A crew may only use a model that has one.',
  fields: (t) => ({
    model: t.exposeString('model'),
    inputUsdPerMillion: t.float({ select: { inputUsdPerMillion: true }, resolve: (p) => usd(p.inputUsdPerMillion) }),
    outputUsdPerMillion: t.float({ select: { outputUsdPerMillion: true }, resolve: (p) => usd(p.outputUsdPerMillion) }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryField('models', (t) =>
  t.prismaField({
    type: ['ModelPrice'],
    authScopes: { viewer: true },
    description: 'Every model with a price, by name.',
    resolve: (query, _root, _args, ctx) => ctx.services.db.modelPrice.findMany({ ...query, orderBy: { model: 'asc' } }),
  }),
);

const ModelPriceInput = builder.inputType('ModelPriceInput', {
  fields: (t) => ({
    model: t.string({ required: true, description: 'The model name agents use (1 to 200 characters).' }),
    inputUsdPerMillion: t.float({ required: true, description: 'USD per million input tokens (0 to 1,000,000).' }),
    outputUsdPerMillion: t.float({ required: true, description: 'USD per million output tokens (0 to 1,000,000).' }),
  }),
});

builder.mutationField('setModelPrice', (t) =>
  t.prismaField({
    type: 'ModelPrice',
    authScopes: { admin: true },
    description:
      "Sets the price of a model (creating it). Prices are shared by every project, so only an ADMIN of the operator's project (`default`) may set them; charges made from now on use the new one.",
    args: { input: t.arg({ type: ModelPriceInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      // Prices are every project's: a tenant's ADMIN setting one would change what other projects pay.
      await requireInstanceAdmin(ctx.services.pool, principalOf(ctx), 'Setting a model price (prices are shared by every project)');
      await setModelPrice(ctx.services.pool, input);
      return ctx.services.db.modelPrice.findUniqueOrThrow({ ...query, where: { model: input.model } });
    },
  }),
);
