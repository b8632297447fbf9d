import { createHash } from 'node:crypto';
import pg from 'pg';
import { BeginWithStatement } from './begin-with-statement.ts';

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

/**
 * pg's Client, with `query(text, values)` (1 to MAX_PARAMS values) sent as a named statement. Every other
 * form (no values, a query config, a Submittable) is passed on unchanged. A transaction may defer its
 * BEGIN (`deferBegin`): it then goes out with the next statement, in one round trip
 * (begin-with-statement.ts). That statement travels by the extended protocol whatever its form, so
 * it must be one statement (a text of several, which only pg's simple protocol takes, fails with
 * PostgreSQL's error), and it cannot be a Submittable (a cursor).
 */
export class NamedStatementClient extends pg.Client {
  private beginDeferred = false;

  /** The next statement starts a transaction. */
  deferBegin(): void {
    this.beginDeferred = true;
  }

  /** Whether a deferred BEGIN was never sent (no statement followed it); it is dropped either way. */
  dropDeferredBegin(): boolean {
    const unsent = this.beginDeferred;
    this.beginDeferred = false;
    return unsent;
  }

  // pg's query has many overloads; this forwards whichever was called.
  override query(...args: unknown[]): never {
    const [text, values] = args;
    const name =
      typeof text === 'string' && Array.isArray(values) && values.length > 0 && values.length <= MAX_PARAMS
        ? statementName(text)
        : undefined;
    if (this.beginDeferred) return this.startTransaction(args, name) as never;
    if (name !== undefined) args = [{ name, text, values }, ...args.slice(2)];
    return (super.query as (...a: unknown[]) => never)(...args);
  }

  /** The transaction's first statement with its BEGIN, in pg's forms: (text | config, values?, callback?). */
  private startTransaction(args: unknown[], name: string | undefined): Promise<pg.QueryResult> | undefined {
    const callback = typeof args.at(-1) === 'function' ? (args.pop() as (err: Error | null, res?: pg.QueryResult) => void) : undefined;
    const [first, values] = args as [string | (pg.QueryConfig & { submit?: unknown }), unknown[] | undefined];
    // Refused with the BEGIN still deferred: withTransaction then sends neither it nor a ROLLBACK.
    if (typeof first === 'object' && typeof first.submit === 'function')
      throw new TypeError("A transaction's first statement cannot be a Submittable.");
    const config = typeof first === 'string' ? { text: first, values } : { ...first, values: first.values ?? values };
    this.beginDeferred = false;
    const statement = new BeginWithStatement({ ...config, ...(name !== undefined ? { name } : {}), queryMode: 'extended' });
    (super.query as (q: unknown) => unknown)(statement);
    if (!callback) return statement.result;
    statement.result.then((res) => callback(null, res), callback);
    return undefined;
  }
}
