import pg from 'pg';

export interface StatementLog {
  /** Every statement's text (whitespace collapsed), transaction control included, in the order sent. */
  readonly texts: string[];
  /** The statements sent outside an explicit transaction (each commits on its own), transaction control excluded. */
  readonly autocommitTexts: string[];
  /**
   * The round trips, each a query sent and answered as one (a BEGIN sent with its transaction's first
   * statement, a COMMIT with its last, is not one of its own), of the texts `counted` keeps (default: all).
   */
  roundTrips(counted?: (text: string) => boolean): number;
  stop(): void;
}

export const isTransactionStart = (text: string) => /^\s*BEGIN\b/i.test(text);
export const isTransactionControl = (text: string) => /^\s*(BEGIN|COMMIT|ROLLBACK)\b/i.test(text);

/**
 * Records the statements any pg client of this process sends (Prisma's adapter, graphile-worker and
 * the project's own queries all go through pg's Client.query) until `stop()`.
 */
export function recordStatements(): StatementLog {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  // Kept raw while recording (the whitespace is collapsed when read), so that recording costs a
  // measured window as little CPU as possible.
  /** A text, or a COMMIT sent with a statement: whether it ran, asked when the log is read. */
  const raw: (string | (() => boolean))[] = [];
  const autocommit: string[] = [];
  /** The text of each query sent (a BEGIN or COMMIT sent with a statement is not one). */
  const trips: string[] = [];
  const inTransaction = new WeakSet();
  proto.query = function (this: object, ...args: unknown[]) {
    const q = args[0] as string | { text?: string; beginsTransaction?: boolean; commitsTransaction?: boolean };
    const text = typeof q === 'string' ? q : (q?.text ?? '');
    // A transaction's first statement sent with its BEGIN, its last with its COMMIT (server/db/pipelined-statement.ts).
    if (typeof q === 'object' && q?.beginsTransaction) {
      raw.push('BEGIN');
      inTransaction.add(this);
    }
    raw.push(text);
    trips.push(text);
    if (isTransactionStart(text)) inTransaction.add(this);
    else if (isTransactionControl(text)) inTransaction.delete(this);
    else if (!inTransaction.has(this)) autocommit.push(text);
    if (typeof q === 'object' && q?.commitsTransaction) {
      // Recorded once it ran: a statement that fails is not followed by its COMMIT.
      raw.push(() => (q as { committed?: boolean }).committed === true);
      inTransaction.delete(this);
    }
    return original.apply(this, args);
  };
  const collapse = (texts: string[]) => texts.map((t) => t.replace(/\s+/g, ' ').trim());
  return {
    get texts() {
      return collapse(raw.flatMap((t) => (typeof t === 'string' ? [t] : t() ? ['COMMIT'] : [])));
    },
    get autocommitTexts() {
      return collapse(autocommit);
    },
    roundTrips(counted = () => true) {
      return collapse(trips).filter(counted).length;
    },
    stop() {
      proto.query = original;
    },
  };
}
