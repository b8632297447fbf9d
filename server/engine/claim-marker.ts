// A claim in progress, visible to the dead-claim sweep (requeueDeadClaims in recover-lost-attempts.ts).
//
// graphile-worker stamps a queue entry's `locked_at` once, when a worker fetches it, before our
// claim (start-attempt.ts) starts; a claim may then wait for its project's row lock. The age of the
// lock alone cannot tell such a live claim from a worker that died before claiming, so the claim's
// transaction holds a transaction-scoped advisory lock per job ('CL' namespace, then the job id
// hashed) from its first statement, before that wait, and the sweep leaves the entries of jobs
// whose marker is held. Shared: concurrent claims of one job never wait for each other here. Two
// job ids with the same hash only delay the sweep of one while the other is being claimed.
const NAMESPACE = 0x434c;

/** SQL over a job id (SQL of a uuid or text): takes the marker until the transaction ends; true. */
export const MARK_CLAIM = (jobId: string) => `pg_try_advisory_xact_lock_shared(${NAMESPACE}, hashtext((${jobId})::text))`;

/** SQL over a job id (SQL of text): whether a transaction of this database holds the job's marker. */
export const CLAIM_IN_PROGRESS = (jobId: string) => `EXISTS (
  SELECT 1 FROM pg_locks l
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = ${NAMESPACE}
    AND l.objid = hashtext(${jobId})::oid AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))`;
