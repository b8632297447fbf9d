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
 * BEGIN (`deferBegin`): it then goes out with the next statement that has values, in one round trip
 * (begin-with-statement.ts); a statement without values first waits for a BEGIN of its own.
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
    const withValues = typeof text === 'string' && Array.isArray(values) && values.length > 0;
    const name = withValues && values.length <= MAX_PARAMS ? statementName(text) : undefined;
    if (this.beginDeferred) {
      this.beginDeferred = false;
      if (withValues && args.length === 2) {
        const statement = new BeginWithStatement({ ...(name !== undefined ? { name } : {}), text, values, queryMode: 'extended' });
        (super.query as (q: unknown) => unknown)(statement);
        return statement.result as never;
      }
      if (args.some((a) => typeof a === 'function')) throw new TypeError("A transaction's first statement takes no callback.");
      return (this.query('BEGIN') as Promise<unknown>).then(() => this.query(...args)) as never;
    }
    if (name !== undefined) args = [{ name, text, values }, ...args.slice(2)];
    return (super.query as (...a: unknown[]) => never)(...args);
  }
}
