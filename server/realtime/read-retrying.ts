import { setTimeout as sleep } from 'node:timers/promises';
import { classifyDbError } from '../db/db-error.ts';

/** How long a stream's read from the table is retried while the database is out of reach. */
export const READ_RETRY_MS = 15_000;
const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 2_000;

/**
 * Runs `read` (a stream's read of stored events: a replay page, a gap fill, a catch-up) and, while
 * it fails because the database is out of reach (a connection cut, a restart, a failover: see
 * classifyDbError), runs it again after 100 ms, doubling up to 2 s, for READ_RETRY_MS in all (`budgetMs`). A
 * subscription whose read failed once had ended with an error, and a project's subscriber has no
 * `afterSeq` to resume from: what the stream missed meanwhile was lost to it. Live events that
 * arrive during the retries wait behind the read (the slow-subscriber bound counts them). Other
 * failures, and a stream closed meanwhile (`stopped`), end at once.
 */
export async function readRetrying<T>(read: () => Promise<T>, stopped: () => boolean, budgetMs = READ_RETRY_MS): Promise<T> {
  const until = Date.now() + budgetMs;
  for (let delay = FIRST_DELAY_MS; ; delay = Math.min(delay * 2, MAX_DELAY_MS)) {
    try {
      return await read();
    } catch (err) {
      if (classifyDbError(err) !== 'unavailable' || stopped() || Date.now() + delay > until) throw err;
    }
    await sleep(delay);
    if (stopped()) throw new Error('The stream closed while its read was retried.');
  }
}
