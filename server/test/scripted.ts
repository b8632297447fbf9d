import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestServer } from './harness.ts';
import { jobWithLists } from './job-lists.ts';

export const SCRIPTED_RUNNER = fileURLToPath(new URL('../engine/test-runners/scripted-runner.mjs', import.meta.url));
export const SCRIPTED_RUNNER_COMMAND = JSON.stringify([process.execPath, SCRIPTED_RUNNER]);

const crew = {
  process: 'sequential',
  agents: [{ id: 'writer', role: 'Writer', goal: 'Write the text', backstory: 'A test agent.', model: 'claude-haiku-4-5' }],
  tasks: [{ id: 'write', description: 'Write the text', expectedOutput: 'The text', agent: 'writer' }],
};

/** A template whose runner is the scripted test runner (behaviour chosen by `input.script`). */
export function scriptedTemplate(slug: string, extra: Record<string, unknown> = {}) {
  return {
    slug,
    name: slug,
    description: 'Engine test template',
    crew,
    inputSchema: {
      type: 'object',
      properties: { script: { type: 'string' }, n: { type: 'integer' } },
      required: ['script'],
      additionalProperties: false,
    },
    outputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false },
    maxAttempts: 3,
    timeoutSeconds: 10,
    requiresReview: false,
    ...extra,
  };
}

/** `upsertTemplate` through any GraphQL client (a test server, or a process's URL). */
export async function upsertTemplate(
  gql: (query: string, variables: Record<string, unknown>) => Promise<{ errors?: unknown[] }>,
  input: object,
) {
  const res = await gql(`mutation($input: TemplateInput!) { upsertTemplate(input: $input) { slug } }`, { input });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
}

export async function addScriptedTemplates(t: TestServer) {
  await upsertTemplate(t.gql, scriptedTemplate('scripted'));
  await upsertTemplate(t.gql, scriptedTemplate('scripted-once', { maxAttempts: 1, timeoutSeconds: 2 }));
  await upsertTemplate(t.gql, scriptedTemplate('scripted-review', { requiresReview: true }));
}

export const JOB_DETAIL = /* GraphQL */ `
  query ($id: ID!) {
    job(id: $id) {
      id
      state
      costUsd
      lastError
      output
      attemptCount
      attempts(first: 100) {
        edges {
          node {
            number
            state
            errorCode
            exitReason
            costUsd
            guardrailResults
            feedback
            artifacts {
              path
              sizeBytes
              downloadUrl
            }
          }
        }
      }
      events {
        edges {
          node {
            seq
            type
            fromState
            toState
            message
            data
          }
        }
      }
      review {
        id
        status
      }
    }
  }
`;

export async function createScriptedJob(
  t: TestServer,
  script: string,
  extra: Record<string, unknown> = {},
  slug = 'scripted',
): Promise<string> {
  const { maxCostUsd, ...input } = extra;
  const res = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
    input: { templateSlug: slug, input: { script, ...input }, ...(maxCostUsd ? { maxCostUsd } : {}) },
  });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.createJob.id;
}

/** Polls the job until it is in one of `states`; returns its detail. */
export async function waitForJob(t: TestServer, id: string, states: string[], timeoutMs = 30_000): Promise<any> {
  const started = Date.now();
  for (;;) {
    const res = await t.gql(JOB_DETAIL, { id });
    const job = jobWithLists(res.data?.job);
    if (job && states.includes(job.state)) return job;
    if (Date.now() - started > timeoutMs)
      throw new Error(
        `job ${id} did not reach ${states.join(' or ')} in ${timeoutMs} ms: ${JSON.stringify(job ?? res.errors).slice(0, 3000)}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** True while the process runs; a zombie (exited, waiting to be reaped by init) counts as gone. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
