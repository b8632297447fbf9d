import pg from 'pg';

export interface StatementLog {
  /** Every statement's text (whitespace collapsed), transaction control included, in the order sent. */
  readonly texts: string[];
  /** The statements sent outside an explicit transaction (each commits on its own), transaction control excluded. */
  readonly autocommitTexts: string[];
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
  const raw: string[] = [];
  const autocommit: string[] = [];
  const inTransaction = new WeakSet();
  proto.query = function (this: object, ...args: unknown[]) {
    const q = args[0] as string | { text?: string };
    const text = typeof q === 'string' ? q : (q?.text ?? '');
    raw.push(text);
    if (isTransactionStart(text)) inTransaction.add(this);
    else if (isTransactionControl(text)) inTransaction.delete(this);
    else if (!inTransaction.has(this)) autocommit.push(text);
    return original.apply(this, args);
  };
  const collapse = (texts: string[]) => texts.map((t) => t.replace(/\s+/g, ' ').trim());
  return {
    get texts() {
      return collapse(raw);
    },
    get autocommitTexts() {
      return collapse(autocommit);
    },
    stop() {
      proto.query = original;
    },
  };
}
