import type { Sql } from '../db/transaction.ts';

// A transaction-scoped advisory lock per project budget ('BU' namespace, then the project id hashed).
// Charges take it shared, so they never wait for one another; setBudget takes it exclusively, so it
// recounts the usage records only once every charge in flight has committed, and a charge that starts
// meanwhile waits and then adds to the recounted spend. Lock order everywhere: this lock, Budget, Job.
const NAMESPACE = 0x4255;

/**
 * Held by every usage charge until its transaction ends: SQL taking it for the project `projectId`
 * (SQL of a uuid), for a charge's first statement, which takes no row lock.
 */
export const LOCK_BUDGET_FOR_CHARGE = (projectId: string) => `pg_advisory_xact_lock_shared(${NAMESPACE}, hashtext((${projectId})::text))`;

/** Held by setBudget until its transaction ends: no charge is in flight while it recounts spend. */
export async function lockBudgetExclusively(sql: Sql, projectId: string): Promise<void> {
  await sql.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [NAMESPACE, projectId]);
}
