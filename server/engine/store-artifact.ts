import { createHash, randomUUID } from 'node:crypto';
import { withTransaction } from '../db/transaction.ts';
import { appendJobEvent } from '../jobs/job-event.ts';
import type { Services } from '../services.ts';
import { downloadFilename, type ArtifactStore } from '../storage/artifact-store.ts';
import type { StartedAttempt } from './start-attempt.ts';

export const MAX_ARTIFACT_BYTES = 10 * 1024 * 1024;

/** The job already holds as many files as one job may (AUTODEV_MAX_ARTIFACTS_PER_JOB). */
export class ArtifactLimitReached extends Error {
  readonly code = 'ARTIFACT_LIMIT_REACHED';
  constructor(readonly limit: number) {
    super(
      `The job already holds ${limit} artifacts, the most one job may store (AUTODEV_MAX_ARTIFACTS_PER_JOB); further files are not stored.`,
    );
  }
}

/**
 * Stores a file the crew produced: bytes under an engine-chosen key (never the runner's path),
 * then the Artifact row and the ARTIFACT event in one transaction. A job holds at most
 * `limits.maxArtifactsPerJob` files (counted before the bytes are written, and again under the
 * job's row lock before the row is).
 */
export async function storeArtifact(
  services: Services,
  store: ArtifactStore,
  attempt: StartedAttempt,
  file: { path: string; contentType: string; body: Buffer },
): Promise<void> {
  if (file.body.length > MAX_ARTIFACT_BYTES) {
    throw new Error(`artifact ${file.path} is ${file.body.length} bytes; the limit is ${MAX_ARTIFACT_BYTES}`);
  }
  const max = services.config.limits.maxArtifactsPerJob;
  const held = (sql: Pick<typeof services.pool, 'query'>) =>
    sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Artifact" WHERE "jobId" = $1`, [attempt.jobId]).then((r) => r.rows[0].n);
  if ((await held(services.pool)) >= max) throw new ArtifactLimitReached(max);
  const key = `${attempt.projectId}/${attempt.jobId}/${attempt.number}/${randomUUID()}`;
  await store.put(key, file.body, { filename: downloadFilename(file.path), contentType: file.contentType });
  const sha256 = createHash('sha256').update(file.body).digest('hex');
  const event = await withTransaction(services.pool, async (sql) => {
    await sql.query(`SELECT 1 FROM "Job" WHERE id = $1 FOR UPDATE`, [attempt.jobId]);
    if ((await held(sql)) >= max) throw new ArtifactLimitReached(max);
    const { rows } = await sql.query<{ id: string }>(
      `INSERT INTO "Artifact" (id, "projectId", "jobId", "attemptId", path, "contentType", "sizeBytes", sha256, "storageKey")
       VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [attempt.projectId, attempt.jobId, attempt.attemptId, file.path, file.contentType, file.body.length, sha256, key],
    );
    return appendJobEvent(sql, attempt.jobId, {
      type: 'ARTIFACT',
      message: `${file.path} (${file.body.length} bytes)`,
      data: { artifactId: rows[0].id, path: file.path, contentType: file.contentType, sizeBytes: file.body.length, sha256 },
      actor: 'runner',
      attemptNumber: attempt.number,
    });
  });
  await services.events.publish([event]);
}
