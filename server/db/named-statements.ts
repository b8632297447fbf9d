import { createHash } from 'node:crypto';
import pg from 'pg';
import { PipelinedStatement } from './pipelined-statement.ts';

// PostgreSQL parses, analyzes and plans an unnamed statement again on every execution. A named one
// is parsed once per connection (pg sends Parse the first time a connection sees the name, then only
// Bind/Execute), and its plan can be cached. Statements with parameter values are always a single
// statement (the extended protocol refuses more), and this project's texts are fixed by the code
// (values travel as parameters), so a name derived from the text stays unique to it and the set of
// names per connection stays bounded. Texts that vary with a batch's size (job-event.ts's multi-row
// VALUES, up to 500 rows) are named only while small: a statement with more than MAX_PARAMS values
// goes unnamed, so no connection keeps a large plan per batch size. A prepared statement keeps its
// plan in the backend: after 200 jobs (bench/lifecycle.ts's flow) a connection held 13-19 of ours
// and 1.2-2.1 MiB of cached plans (~100 KiB each). The code has ~110 call sites; MAX_NAMED bounds
// that memory (~20 MiB per connection at most) even if a text ever embedded a value: past it,
// statements go unnamed as before.
const MAX_PARAMS = 64;
const MAX_NAMED = 200;
const names = new Map<string, string>();

/** The statement name for `text`, or undefined once MAX_NAMED distinct texts have been named. */
export function statementName(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED) {
    // 'autodev_' keeps these apart from graphile-worker's own named statements; 120 bits of the hash.
    name = 'autodev_' + createHash('sha1').update(text).digest('hex').slice(0, 30);
    names.set(text, name);
  }
  return name;
}

/** Where a transaction on a NamedStatementClient stands when it ends (see `endTransaction`). */
export type TransactionEnd = 'unsent' | 'committed' | 'open';

/**
 * pg's Client, with `query(text, values)` (1 to MAX_PARAMS values) sent as a named statement. Every other
 * form (no values, a query config, a Submittable) is passed on unchanged. A transaction may defer its
 * BEGIN (`deferBegin`): it then goes out with the next statement, in one round trip; and it may
 * send its COMMIT with its last statement (`commitWithNext`), in one round trip too
 * (pipelined-statement.ts). Such a statement travels by the extended protocol whatever its form, so
 * it must be one statement (a text of several, which only pg's simple protocol takes, fails with
 * PostgreSQL's error), and it cannot be a Submittable (a cursor).
 */
export class NamedStatementClient extends pg.Client {
  private beginDeferred = false;
  private commitNext = false;
  /** The statement sent with the transaction's COMMIT: nothing more may be sent in the transaction. */
  private lastStatement: PipelinedStatement | null = null;

  /** The next statement starts a transaction. */
  deferBegin(): void {
    this.beginDeferred = true;
  }

  /**
   * The next statement is its transaction's last: COMMIT goes with it. If it fails, COMMIT does not
   * run and the transaction stays open for a ROLLBACK; once it succeeded, the transaction has
   * committed, so nothing after it may need a rollback, and a further statement in the
   * transaction is refused.
   */
  commitWithNext(): void {
    this.commitNext = true;
  }

  /**
   * The transaction ends (withTransaction): whether its deferred BEGIN was never sent (no statement
   * followed it), it committed with its last statement, or it is still open (a COMMIT or ROLLBACK
   * is due). The client is ready for the next transaction either way.
   */
  endTransaction(): TransactionEnd {
    const end: TransactionEnd = this.beginDeferred ? 'unsent' : this.lastStatement?.committed ? 'committed' : 'open';
    this.beginDeferred = false;
    this.commitNext = false;
    this.lastStatement = null;
    return end;
  }

  // pg's query has many overloads; this forwards whichever was called.
  override query(...args: unknown[]): never {
    if (this.lastStatement)
      throw new Error('The transaction ended with the statement sent with its COMMIT; nothing more can be sent in it.');
    const [text, values] = args;
    const name =
      typeof text === 'string' && Array.isArray(values) && values.length > 0 && values.length <= MAX_PARAMS
        ? statementName(text)
        : undefined;
    if (this.beginDeferred || this.commitNext) return this.pipelined(args, name) as never;
    if (name !== undefined) args = [{ name, text, values }, ...args.slice(2)];
    return (super.query as (...a: unknown[]) => never)(...args);
  }

  /** A statement with its BEGIN and/or COMMIT, in pg's forms: (text | config, values?, callback?). */
  private pipelined(args: unknown[], name: string | undefined): Promise<pg.QueryResult> | undefined {
    const callback = typeof args.at(-1) === 'function' ? (args.pop() as (err: Error | null, res?: pg.QueryResult) => void) : undefined;
    const [first, values] = args as [string | (pg.QueryConfig & { submit?: unknown; rows?: number }), unknown[] | undefined];
    // Refused with the BEGIN still deferred: withTransaction then sends neither it nor a ROLLBACK.
    if (typeof first === 'object' && (typeof first.submit === 'function' || first.rows !== undefined))
      throw new TypeError("A transaction's first or last statement cannot be a Submittable or read rows by pages.");
    const config = typeof first === 'string' ? { text: first, values } : { ...first, values: first.values ?? values };
    const statement = new PipelinedStatement(
      { ...config, ...(name !== undefined ? { name } : {}), queryMode: 'extended' },
      { begin: this.beginDeferred, commit: this.commitNext },
    );
    this.beginDeferred = false;
    if (this.commitNext) {
      this.commitNext = false;
      this.lastStatement = statement;
    }
    (super.query as (q: unknown) => unknown)(statement);
    if (!callback) return statement.result;
    statement.result.then((res) => callback(null, res), callback);
    return undefined;
  }
}

/**
 * In a transaction of withTransaction's: the next statement is the transaction's last, and COMMIT
 * goes with it in one round trip (see NamedStatementClient.commitWithNext for what the caller then
 * promises). On another client (not one of this project's pools), nothing changes: withTransaction
 * sends COMMIT after it as usual.
 */
export function commitWithNext(sql: unknown): void {
  if (sql instanceof NamedStatementClient) sql.commitWithNext();
}
