import pg from 'pg';

export interface StatementLog {
  /** Every statement's text (whitespace collapsed), transaction control included, in the order sent. */
  readonly texts: string[];
  stop(): void;
}

/**
 * Records the statements any pg client of this process sends (Prisma's adapter, graphile-worker and
 * the project's own queries all go through pg's Client.query) until `stop()`.
 */
export function recordStatements(): StatementLog {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  const texts: string[] = [];
  proto.query = function (this: unknown, ...args: unknown[]) {
    const q = args[0] as string | { text?: string };
    texts.push((typeof q === 'string' ? q : (q?.text ?? '')).replace(/\s+/g, ' ').trim());
    return original.apply(this, args);
  };
  return {
    texts,
    stop() {
      proto.query = original;
    },
  };
}

export const isTransactionStart = (text: string) => /^BEGIN\b/i.test(text);
export const isTransactionControl = (text: string) => /^(BEGIN|COMMIT|ROLLBACK)\b/i.test(text);
