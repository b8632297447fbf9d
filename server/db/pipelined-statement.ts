import pg from 'pg';

// A statement with its transaction's control in the same round trip: BEGIN before it (the
// transaction's first statement), COMMIT after it (its last), or both. All go out in one write as
// extended-protocol messages before a single Sync: Parse/Bind/Execute of BEGIN, the statement's
// Parse/Bind/Describe/Execute, Parse/Bind/Execute of COMMIT, then Sync. PostgreSQL runs them in
// order. If one fails, the server skips everything up to the Sync: a statement whose BEGIN failed
// never runs outside its transaction, and a statement that fails is never followed by its COMMIT
// (the transaction stays open, aborted, for the caller's ROLLBACK). The answer is one stream ending
// in one ReadyForQuery: BEGIN's CommandComplete, the statement's messages, COMMIT's
// CommandComplete. This object hides BEGIN's and COMMIT's part and hands the rest to pg's own Query.

/** pg's protocol writer, as a Query's `submit` receives it (not in pg's published types). */
interface Connection {
  stream: { cork?: () => void; uncork?: () => void };
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  parse(msg: { text: string; name?: string }): void;
  bind(msg: { portal?: string; statement?: string; values?: unknown[] }): void;
  execute(msg: { portal?: string; rows?: number }): void;
  sync(): void;
}

/** The parts of pg's Query that pg's Client calls while a query is active. */
interface ActiveQuery {
  name?: string;
  binary?: boolean;
  text: string;
  values?: unknown;
  _result: unknown;
  submit(connection: Connection): Error | null;
  handleRowDescription(msg: unknown): void;
  handleDataRow(msg: unknown): void;
  handlePortalSuspended(connection: Connection): void;
  handleEmptyQuery(connection: Connection): void;
  handleCommandComplete(msg: unknown, connection: Connection): void;
  handleReadyForQuery(connection: Connection): void;
  handleError(err: Error, connection: Connection): void;
  handleCopyInResponse(connection: Connection): void;
  handleCopyData(msg: unknown, connection: Connection): void;
  callback?: (err: Error | null, result?: pg.QueryResult) => void;
}

/** Parse/Bind/Execute of an unnamed statement without parameters (BEGIN, COMMIT). */
function control(connection: Connection, text: string) {
  connection.parse({ text });
  connection.bind({});
  connection.execute({});
}

/**
 * A Submittable for pg's Client.query: `config`'s statement, after BEGIN (`begin`) and before
 * COMMIT (`commit`). Not for a Client made with `pipeline: true` (pg refuses Submittables there).
 */
export class PipelinedStatement {
  /** Read by server/test/count-statements.ts, which records a BEGIN before this statement. */
  readonly beginsTransaction: boolean;
  /** Read by server/test/count-statements.ts, which records a COMMIT after this statement. */
  readonly commitsTransaction: boolean;
  private readonly statement: ActiveQuery;
  /** BEGIN's CommandComplete has arrived (or no BEGIN was sent): what follows is the statement's. */
  private begun: boolean;
  /** The statement's CommandComplete has arrived: the next one is COMMIT's. */
  private done = false;
  /** COMMIT's CommandComplete has arrived: the transaction committed. */
  committed = false;
  readonly result: Promise<pg.QueryResult>;

  constructor(config: pg.QueryConfig & { queryMode: 'extended' }, edges: { begin: boolean; commit: boolean }) {
    this.beginsTransaction = edges.begin;
    this.commitsTransaction = edges.commit;
    this.begun = !edges.begin;
    this.statement = new (pg.Query as unknown as new (c: pg.QueryConfig) => ActiveQuery)(config);
    this.result = new Promise<pg.QueryResult>((resolve, reject) => {
      this.statement.callback = (err, res) => (err ? reject(err) : resolve(res!));
    }).catch((err: unknown) => {
      // As pg does: a stack that leads back to the caller, not to the socket's read.
      if (err instanceof Error) Error.captureStackTrace(err);
      throw err;
    });
  }

  // pg's Client notes a named statement as parsed when a ParseComplete arrives for the active
  // query's name, and forgets it as submitted when an error does: BEGIN's ParseComplete must not
  // count for the statement, so the name shows only once BEGIN is done.
  get name() {
    return this.begun ? this.statement.name : undefined;
  }
  get text() {
    return this.statement.text;
  }
  /** pg's Client sets the connection's type parsers on it. */
  get _result() {
    return this.statement._result;
  }
  /** pg's Client sets this when it was made with `binary: true`. */
  get binary() {
    return this.statement.binary;
  }
  set binary(on) {
    this.statement.binary = on;
  }
  get callback() {
    return this.statement.callback;
  }
  set callback(fn) {
    this.statement.callback = fn;
  }

  submit(connection: Connection): Error | null {
    // What pg's Query refuses before it writes anything is refused here before BEGIN is written:
    // a BEGIN left without its Sync would run with whatever query the connection sends next.
    const { name, text, values } = this.statement;
    if (typeof text !== 'string') return new Error('A query must have either text or a name. Supplying neither is unsupported.');
    if (values !== undefined && !Array.isArray(values)) return new Error('Query values must be an array');
    const previous = name ? (connection.parsedStatements[name] ?? connection.submittedNamedStatements[name]) : undefined;
    if (previous !== undefined && previous !== text)
      return new Error(`Prepared statements must be unique - '${name}' was used for a different statement`);
    connection.stream.cork?.();
    try {
      if (this.beginsTransaction) control(connection, 'BEGIN');
      if (!this.commitsTransaction) return this.statement.submit(connection);
      // pg's Query ends its messages with Execute and Sync: COMMIT goes in before the Sync, so the
      // Sync closes all of them. Not when binding failed in pg (a value it could not serialize:
      // it sends Close and Sync instead of Execute), or COMMIT would commit what came before.
      let executed = false;
      const beforeSync: Connection = Object.create(connection) as Connection;
      beforeSync.execute = (msg) => {
        executed = true;
        connection.execute(msg);
      };
      beforeSync.sync = () => {
        if (executed) control(connection, 'COMMIT');
        connection.sync();
      };
      return this.statement.submit(beforeSync);
    } finally {
      connection.stream.uncork?.();
    }
  }

  handleCommandComplete(msg: unknown, connection: Connection) {
    if (!this.begun) this.begun = true;
    else if (!this.done) {
      this.done = true;
      this.statement.handleCommandComplete(msg, connection);
    } else if ((msg as { text?: string }).text === 'COMMIT') this.committed = true;
  }
  handleError(err: Error, connection: Connection) {
    // An error before the statement's own Parse completed: pg's Client forgot nothing (no name
    // showed), so the statement would count as submitted and never be parsed again.
    const name = this.statement.name;
    if (name && connection.parsedStatements[name] === undefined) Reflect.deleteProperty(connection.submittedNamedStatements, name);
    this.statement.handleError(err, connection);
  }
  handleRowDescription(msg: unknown) {
    this.statement.handleRowDescription(msg);
  }
  handleDataRow(msg: unknown) {
    this.statement.handleDataRow(msg);
  }
  handlePortalSuspended(connection: Connection) {
    this.statement.handlePortalSuspended(connection);
  }
  handleEmptyQuery(connection: Connection) {
    // An empty statement ends without a CommandComplete: the next is COMMIT's.
    if (this.begun) this.done = true;
    this.statement.handleEmptyQuery(connection);
  }
  handleReadyForQuery(connection: Connection) {
    this.statement.handleReadyForQuery(connection);
  }
  handleCopyInResponse(connection: Connection) {
    this.statement.handleCopyInResponse(connection);
  }
  handleCopyData(msg: unknown, connection: Connection) {
    this.statement.handleCopyData(msg, connection);
  }
}
