import type { TestServer } from './harness.ts';
import { nodesOf } from './job-lists.ts';

/** Everything a tenant can read about a job over GraphQL, events with their actors included. */
export const JOB_EXPOSED = /* GraphQL */ `
  query ($id: ID!) {
    job(id: $id) {
      id
      state
      lastError
      output
      costUsd
      attempts(first: 100) {
        edges {
          node {
            number
            state
            errorCode
            exitReason
            guardrailResults
            feedback
            output
            artifacts {
              path
              contentType
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
            actor
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

/**
 * Every place a job's text is kept or shown, as named texts: the GraphQL answer to a VIEWER of
 * the job's project, each downloadable artifact, and every database row that belongs to the job.
 */
export async function jobExposure(t: TestServer, jobId: string, viewerToken: string): Promise<Record<string, string>> {
  const answer = await t.gql(JOB_EXPOSED, { id: jobId }, viewerToken);
  if (!answer.data?.job) throw new Error(`the viewer cannot read job ${jobId}: ${JSON.stringify(answer.errors)}`);
  const texts: Record<string, string> = { 'GraphQL answer': JSON.stringify(answer) };
  for (const attempt of nodesOf(answer.data.job.attempts)) {
    for (const artifact of attempt.artifacts) {
      const res = await fetch(artifact.downloadUrl);
      texts[`artifact ${artifact.path} (attempt ${attempt.number})`] = Buffer.from(await res.arrayBuffer()).toString('latin1');
    }
  }
  const pool = t.app.services.pool;
  const rows = async (table: string, where: string) =>
    JSON.stringify((await pool.query(`SELECT row_to_json(x)::text AS j FROM "${table}" x WHERE ${where}`, [jobId])).rows.map((r) => r.j));
  texts['Job row'] = await rows('Job', 'id = $1');
  texts['JobAttempt rows'] = await rows('JobAttempt', '"jobId" = $1');
  texts['JobEvent rows'] = await rows('JobEvent', '"jobId" = $1');
  texts['Artifact rows'] = await rows('Artifact', '"jobId" = $1');
  texts['UsageRecord rows'] = await rows('UsageRecord', '"jobId" = $1');
  texts['Review rows'] = await rows('Review', '"jobId" = $1');
  return texts;
}
