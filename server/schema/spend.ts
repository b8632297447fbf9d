import { spendReport, type SpendBucket } from '../budgets/spend-report.ts';
import { builder } from './builder.ts';
import { principalOf } from './context.ts';
import { badInput } from '../errors.ts';

const SpendBucketRef = builder.objectRef<SpendBucket>('SpendBucket').implement({
  description: 'Recorded model spend of one UTC day, model and template.',
  fields: (t) => ({
    day: t.exposeString('day', { description: 'YYYY-MM-DD (UTC).' }),
    model: t.exposeString('model'),
    templateSlug: t.exposeString('templateSlug'),
    costUsd: t.exposeFloat('costUsd'),
    inputTokens: t.exposeFloat('inputTokens'),
    outputTokens: t.exposeFloat('outputTokens'),
    charges: t.exposeInt('charges', { description: 'How many usage charges were recorded.' }),
  }),
});

builder.queryField('spend', (t) =>
  t.field({
    type: [SpendBucketRef],
    authScopes: { viewer: true },
    description: "The project's spend per day, model and template over the last `days` days (1–366), oldest first.",
    args: { days: t.arg.int({ defaultValue: 30 }) },
    resolve: (_root, { days }, ctx) => {
      const d = days ?? 30;
      if (d < 1 || d > 366) throw badInput('days must be between 1 and 366.');
      return spendReport(ctx.services.pool, principalOf(ctx).projectId, d);
    },
  }),
);
