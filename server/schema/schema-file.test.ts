import { readFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from './index.ts';

describe('schema.graphql', () => {
  it('is the schema the server serves (run `npm run schema:print` after changing server/schema)', () => {
    const committed = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printSchema(schema) + '\n');
  });

  it('implements the API contract names integrators rely on', () => {
    const q = schema.getQueryType()!.getFields();
    const m = schema.getMutationType()!.getFields();
    const s = schema.getSubscriptionType()!.getFields();
    expect(Object.keys(q)).toEqual(expect.arrayContaining(['viewer', 'templates', 'template', 'jobs', 'job', 'reviews', 'budgets']));
    expect(Object.keys(m)).toEqual(
      expect.arrayContaining([
        'createJob',
        'cancelJob',
        'approveReview',
        'rejectReview',
        'requestChanges',
        'upsertTemplate',
        'setBudget',
        'createApiToken',
        'revokeApiToken',
      ]),
    );
    expect(Object.keys(s)).toEqual(expect.arrayContaining(['jobEvents', 'projectEvents']));
    const job = schema.getType('Job') as any;
    expect(Object.keys(job.getFields())).toEqual(
      expect.arrayContaining([
        'id',
        'state',
        'template',
        'input',
        'output',
        'costUsd',
        'maxCostUsd',
        'attempts',
        'events',
        'review',
        'createdAt',
        'updatedAt',
      ]),
    );
  });
});
