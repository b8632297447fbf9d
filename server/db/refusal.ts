// A refusal raised inside a statement (the migration refusal_errors' autodev_refuse): the statement
// fails, so a COMMIT sent with it does not run (pipelined-statement.ts) and its transaction is rolled
// back; the caller tells the refusal from any other failure by its SQLSTATE and reason.

const REFUSED = 'AD001';

/** SQL that fails its statement with `reason` when it is evaluated (`reason`: a fixed word of the code, not a value). */
export const refuseSql = (reason: string) => `autodev_refuse('${reason}')`;

/** The reason of a refusal raised by refuseSql's SQL, or null for any other error. */
export function refusalOf(err: unknown): string | null {
  return err instanceof Error && (err as { code?: unknown }).code === REFUSED ? err.message : null;
}
