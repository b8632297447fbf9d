import { readFileSync } from 'node:fs';
import type { TestServer } from './harness.ts';

/** Valid inputs for the seeded templates. */
export const TRIAGE_INPUT = {
  title: 'Checkout page crashes on empty cart',
  report: 'Clicking "Pay" with an empty cart shows a blank page and a TypeError in the console.',
};

/** Input of ONE_COMPLETION_FEATURE (the repository is only a name: that crew never clones). */
export const FEATURE_INPUT = {
  repository: 'acme/shop',
  title: 'Add CSV export to the orders page',
  specification: 'Operators need to download the filtered orders table as a CSV file with one row per order.',
  language: 'typescript',
};

export const CREATE_JOB = /* GraphQL */ `
  mutation Create($input: CreateJobInput!) {
    createJob(input: $input) {
      id
      state
      costUsd
      maxCostUsd
      idempotencyKey
      template {
        slug
        version
      }
    }
  }
`;

export const JOB_EVENTS = /* GraphQL */ `
  subscription Events($jobId: ID!, $afterSeq: Int) {
    jobEvents(jobId: $jobId, afterSeq: $afterSeq) {
      seq
      jobId
      type
      fromState
      toState
      message
      actor
      data
    }
  }
`;

/** The smallest template: one writer agent, one task, the given input schema (for tests of users' schemas). */
export function oneWriterTemplate(slug: string, inputSchema: object) {
  return {
    slug,
    name: slug,
    crew: {
      process: 'sequential',
      agents: [{ id: 'writer', role: 'Writer', goal: 'Write', backstory: 'Writes things.', model: 'gpt-4o-mini' }],
      tasks: [{ id: 'write', description: 'Write it', expectedOutput: 'Text', agent: 'writer' }],
    },
    inputSchema,
    outputSchema: { type: 'object' },
  };
}

/**
 * The implement-feature crew as it was before the bundled one moved to the agent runtime: no
 * workspace, tools or checks, so each task is one chat completion and the last returns the files
 * as JSON. For the tests of that reference path (slug `feature-one-completion`).
 */
export const ONE_COMPLETION_FEATURE: Record<string, any> = JSON.parse(
  readFileSync(new URL('./feature-one-completion.template.json', import.meta.url), 'utf8'),
);

/** Registers ONE_COMPLETION_FEATURE in the test server's default project (as its admin). */
export async function addOneCompletionFeature(t: Pick<TestServer, 'gql'>): Promise<void> {
  const res = await t.gql(`mutation($input: TemplateInput!) { upsertTemplate(input: $input) { slug } }`, { input: ONE_COMPLETION_FEATURE });
  if (res.errors) throw new Error(`upsertTemplate feature-one-completion: ${JSON.stringify(res.errors)}`);
}
