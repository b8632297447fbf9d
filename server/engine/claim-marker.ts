// A claim in progress, visible to the dead-claim sweep (requeueDeadClaims in recover-lost-attempts.ts).
//
// graphile-worker stamps a queue entry's `locked_at` once, when a worker fetches it, before our
// claim (start-attempt.ts) starts; a claim may then wait for its project's row lock. The age of the
// lock alone cannot tell such a live claim from a worker that died before claiming, so the claim's
// transaction holds a transaction-scoped advisory lock per job ('CL' namespace, then the job id
// hashed) from its first statement, before that wait, and the sweep leaves the entries of jobs
// whose marker is held. Shared: concurrent claims of one job never wait for each other here, and
// nothing takes it exclusively, so the try below always succeeds (a false would make the claim
// find no job). Two job ids with the same hash only delay the sweep of one while the other is
// being claimed. Not covered: the moments between graphile-worker's fetch and the claim's first
// statement (the task's start, a wait for a pooled connection).
const NAMESPACE = 0x434c;

/** The marker's key for a job id (SQL of a uuid or of its text; entries name jobs as `uuid::text`, see enqueue-run.ts). */
const KEY = (jobId: string) => `hashtext((${jobId})::text)`;

/** SQL over a job id: takes the marker until the transaction ends; true. */
export const MARK_CLAIM = (jobId: string) => `pg_try_advisory_xact_lock_shared(${NAMESPACE}, ${KEY(jobId)})`;

/** SQL of the keys of the markers held now in this database (for a MATERIALIZED CTE: one read of pg_locks). */
export const HELD_CLAIM_KEYS = `SELECT l.objid AS key FROM pg_locks l
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = ${NAMESPACE}
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

/** SQL over a job id and a relation of HELD_CLAIM_KEYS (pg_locks shows the key as an oid): whether the job's marker is held. */
export const CLAIM_HELD = (jobId: string, held: string) => `EXISTS (SELECT 1 FROM ${held} WHERE key = ${KEY(jobId)}::oid)`;
