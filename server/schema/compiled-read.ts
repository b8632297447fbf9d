import { parsePrismaCursor } from '@pothos/plugin-prisma';
import {
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { COLUMN_JSON, CURSOR_JSON } from './compiled-read-columns.ts';
import { isId } from './ids.ts';
import { EVENTS_PAGE, PAGE } from './page-size.ts';

// A compiled plan for reads, as PostGraphile and Hasura do it: a query whose selection lies in a
// supported subset (Query.jobs with Job's columns, its template, its attempts and events connections,
// pageInfo, cursors, aliases, fragments, @skip/@include, __typename) becomes ONE SQL statement that
// returns the response's `data` as JSON text, built by PostgreSQL. Anything else is not compiled, and
// any value the plan cannot vouch for (a cursor that would be refused, an amount JavaScript would print
// otherwise) makes the statement answer NULL or a parameter refuse: the request then takes the general
// path (Pothos, Prisma, graphql-js), which stays the reference. compiled-read.test.ts compares both.

/** What a plan's parameters are computed from, per request. */
export interface ReadInputs {
  /** The operation's variables, coerced by graphql-js (getVariableValues). */
  variables: Record<string, unknown>;
  projectId: string;
  /** Bytes the answer may have (what is left of the request's response budget). */
  maxBytes: number;
}

/** Thrown by a parameter whose value the plan does not answer (the general path will). */
export class NotCompiled extends Error {}

export interface ReadPlan {
  /** One statement; its one row's `body` is the `data` JSON text, or NULL: take the general path. */
  sql: string;
  params: ((inputs: ReadInputs) => unknown)[];
}

class Unsupported extends Error {}

type Fields = Map<string, FieldNode[]>;

/** Variables whose values decide @skip/@include in `document` (a plan is compiled per their values). */
export function directiveVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  const visit = (set: SelectionSetNode | undefined) => {
    for (const sel of set?.selections ?? []) {
      for (const d of sel.directives ?? [])
        for (const a of d.arguments ?? []) if (a.value.kind === Kind.VARIABLE) names.add(a.value.name.value);
      if (sel.kind !== Kind.FRAGMENT_SPREAD) visit(sel.selectionSet);
    }
  };
  for (const d of document.definitions)
    if (d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION) visit(d.selectionSet);
  return [...names];
}

/**
 * The plan of a validated query `operation`, for the @skip/@include outcomes `variables` give, or
 * null when the selection leaves the compiled subset.
 */
export function compileRead(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): ReadPlan | null {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  try {
    return new PlanWriter(schema, fragments, variables).root(operation);
  } catch (err) {
    if (err instanceof Unsupported) return null;
    throw err;
  }
}

class PlanWriter {
  readonly params: ReadPlan['params'] = [];
  private aliases = 0;
  private readonly guards: string[] = [];
  private readonly projectId: string;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: Map<string, FragmentDefinitionNode>,
    private readonly variables: Record<string, unknown>,
  ) {
    this.projectId = this.param((i) => i.projectId, 'uuid');
  }

  root(operation: OperationDefinitionNode): ReadPlan {
    const query = this.schema.getQueryType()!;
    const fields = this.collect(query, [operation.selectionSet]);
    // Every root field skipped: nothing to read, and a statement that names none of its parameters
    // (the project's id) is one PostgreSQL cannot type. The general path answers `{}`.
    if (fields.size === 0) throw new Unsupported();
    const body = this.object(query, fields, '', (name, nodes) => {
      if (name !== 'jobs') throw new Unsupported();
      return this.jobs(query.getFields().jobs, nodes);
    });
    const max = this.param((i) => i.maxBytes, 'bigint');
    const guards = [...this.guards, `octet_length(b.body) <= ${max}`].join(' AND ');
    return { sql: `SELECT CASE WHEN ${guards} THEN b.body END AS body FROM (SELECT ${body} AS body OFFSET 0) b`, params: this.params };
  }

  private param(get: (inputs: ReadInputs) => unknown, cast: string): string {
    this.params.push(get);
    return `$${this.params.length}::${cast}`;
  }

  private alias(): string {
    return `x${++this.aliases}`;
  }

  /** graphql-js' CollectFields: response keys in order of appearance, fragments once, @skip/@include applied. */
  private collect(type: GraphQLObjectType, sets: readonly SelectionSetNode[], out: Fields = new Map(), seen = new Set<string>()): Fields {
    for (const set of sets) {
      for (const sel of set.selections) {
        if (!this.included(sel)) continue;
        if (sel.kind === Kind.FIELD) {
          const key = sel.alias?.value ?? sel.name.value;
          const list = out.get(key);
          if (list) list.push(sel);
          else out.set(key, [sel]);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          if (sel.typeCondition && sel.typeCondition.name.value !== type.name) throw new Unsupported();
          this.collect(type, [sel.selectionSet], out, seen);
        } else {
          if (seen.has(sel.name.value)) continue;
          seen.add(sel.name.value);
          const fragment = this.fragments.get(sel.name.value);
          if (!fragment || fragment.typeCondition.name.value !== type.name) throw new Unsupported();
          this.collect(type, [fragment.selectionSet], out, seen);
        }
      }
    }
    return out;
  }

  private included(sel: SelectionNode): boolean {
    for (const d of sel.directives ?? []) if (d.name.value !== 'skip' && d.name.value !== 'include') throw new Unsupported();
    try {
      if (getDirectiveValues(GraphQLSkipDirective, sel, this.variables)?.if === true) return false;
      return getDirectiveValues(GraphQLIncludeDirective, sel, this.variables)?.if !== false;
    } catch {
      // `if: $v` with $v null (a nullable variable with a default, sent as null): the general path answers.
      throw new Unsupported();
    }
  }

  private subfields(type: GraphQLObjectType, nodes: FieldNode[]): Fields {
    const sets = nodes.map((n) => n.selectionSet).filter((s): s is SelectionSetNode => !!s);
    return this.collect(type, sets);
  }

  /**
   * JSON text of an object: `'{' || '"key":' || value || ... || '}'` in the fields' order. `value` writes
   * the fields other than __typename and the type's columns (over row alias `x`).
   */
  private object(type: GraphQLObjectType, fields: Fields, x: string, value: (name: string, nodes: FieldNode[]) => string): string {
    const parts: string[] = [];
    const columns = COLUMN_JSON[type.name] ?? {};
    for (const [key, nodes] of fields) {
      const name = nodes[0].name.value;
      const json = name === '__typename' ? `'"${type.name}"'` : Object.hasOwn(columns, name) && x ? columns[name](x) : value(name, nodes);
      parts.push(`'${parts.length ? ',' : '{'}"${key}":' || ${json}`);
    }
    return parts.length ? `${parts.join(' || ')} || '}'` : `'{}'`;
  }

  private fieldOf(type: GraphQLObjectType, name: string): GraphQLField<unknown, unknown> {
    const field = type.getFields()[name];
    if (!field) throw new Unsupported();
    return field;
  }

  /** The field's arguments as graphql-js coerces them (defaults applied), per request. */
  private args(field: GraphQLField<unknown, unknown>, node: FieldNode) {
    return (i: ReadInputs) => getArgumentValues(field, node, i.variables);
  }

  private job(type: GraphQLObjectType, fields: Fields, x: string): string {
    return this.object(type, fields, x, (name, nodes) => {
      const field = this.fieldOf(type, name);
      const target = getNamedType(field.type);
      if (!isObjectType(target)) throw new Unsupported();
      if (name === 'template') {
        const t = this.alias();
        const template = this.object(target, this.subfields(target, nodes), t, () => {
          throw new Unsupported();
        });
        return `(SELECT ${template} FROM "Template" ${t} WHERE ${t}.id = ${x}."templateId")`;
      }
      if (name === 'attempts') return this.attempts(field, nodes, x);
      if (name === 'events') return this.events(field, nodes, x);
      throw new Unsupported();
    });
  }

  /** `first`, from coerced arguments: the page size, or NotCompiled for what the general path answers (last, before, out of range). */
  private first(args: (i: ReadInputs) => Record<string, unknown>, page: { default: number; max: number }) {
    return (i: ReadInputs) => {
      const a = args(i);
      if (a.last != null || a.before != null) throw new NotCompiled();
      const first = a.first ?? page.default;
      if (typeof first !== 'number' || !Number.isInteger(first) || first < 0 || first > page.max) throw new NotCompiled();
      return first;
    };
  }

  private jobs(field: GraphQLField<unknown, unknown>, nodes: FieldNode[]): string {
    const args = this.args(field, nodes[0]);
    const first = this.param(this.first(args, PAGE), 'int');
    const after = this.param((i) => {
      const a = args(i);
      if (a.filter != null) throw new NotCompiled();
      if (a.after == null) return null;
      // checkCursors (cursor.ts) takes only a cursor of one of this project's jobs: the guard below.
      const id = decodeCursor(a.after as string);
      if (!isId(id)) throw new NotCompiled();
      return id;
    }, 'uuid');
    this.guards.push(`(${after} IS NULL OR EXISTS (SELECT 1 FROM "Job" c WHERE c.id = ${after} AND c."projectId" = ${this.projectId}))`);
    const q = this.alias();
    const rows = `SELECT ${q}.* FROM "Job" ${q} WHERE ${q}."projectId" = ${this.projectId}
      AND (${after} IS NULL OR (${q}."createdAt", ${q}.id) < (SELECT c."createdAt", c.id FROM "Job" c WHERE c.id = ${after}))
      ORDER BY ${q}."createdAt" DESC, ${q}.id DESC LIMIT ${first} + 1`;
    return this.connection(field, nodes, 'Job', rows, (r) => `${r}."createdAt" DESC, ${r}.id DESC`, first, after);
  }

  private attempts(field: GraphQLField<unknown, unknown>, nodes: FieldNode[], parent: string): string {
    const args = this.args(field, nodes[0]);
    const first = this.param(this.first(args, PAGE), 'int');
    const cursor = (i: ReadInputs) => compoundCursor(args(i).after);
    const after = this.param((i) => cursor(i)?.[0] ?? null, 'uuid');
    const number = this.param((i) => cursor(i)?.[1] ?? null, 'int');
    const q = this.alias();
    // Prisma pages a nested list in memory from the cursor's row within the relation: none there, no rows.
    const rows = `SELECT ${q}.* FROM "JobAttempt" ${q} WHERE ${q}."jobId" = ${parent}.id
      AND (${after} IS NULL OR (${q}.number > ${number} AND EXISTS (SELECT 1 FROM "JobAttempt" c WHERE c."jobId" = ${parent}.id AND c."jobId" = ${after} AND c.number = ${number})))
      ORDER BY ${q}.number LIMIT ${first} + 1`;
    return this.connection(field, nodes, 'JobAttempt', rows, (r) => `${r}.number`, first, after);
  }

  private events(field: GraphQLField<unknown, unknown>, nodes: FieldNode[], parent: string): string {
    const args = this.args(field, nodes[0]);
    const first = this.param(this.first(args, EVENTS_PAGE), 'int');
    const afterSeq = this.param((i) => args(i).afterSeq ?? 0, 'int');
    const cursor = (i: ReadInputs) => compoundCursor(args(i).after);
    const after = this.param((i) => cursor(i)?.[0] ?? null, 'uuid');
    const seq = this.param((i) => cursor(i)?.[1] ?? null, 'int');
    const q = this.alias();
    const rows = `SELECT ${q}.* FROM "JobEvent" ${q} WHERE ${q}."jobId" = ${parent}.id AND ${q}.seq > ${afterSeq}
      AND (${after} IS NULL OR (${q}.seq > ${seq} AND EXISTS (SELECT 1 FROM "JobEvent" c WHERE c."jobId" = ${parent}.id AND c."jobId" = ${after} AND c.seq = ${seq} AND c.seq > ${afterSeq})))
      ORDER BY ${q}.seq LIMIT ${first} + 1`;
    return this.connection(field, nodes, 'JobEvent', rows, (r) => `${r}.seq`, first, after);
  }

  /**
   * A Relay connection over `rows` (at most first + 1, in order), as Pothos' wrapConnectionResult
   * answers it: the first `first` rows are the edges, hasNextPage tells whether the extra row came,
   * hasPreviousPage whether `after` was given.
   */
  private connection(
    field: GraphQLField<unknown, unknown>,
    nodes: FieldNode[],
    model: keyof typeof CURSOR_JSON,
    rows: string,
    order: (alias: string) => string,
    first: string,
    after: string,
  ): string {
    const connType = getNamedType(field.type) as GraphQLObjectType;
    const fields = this.subfields(connType, nodes);
    const r = this.alias();
    const c = this.alias();
    const e = this.alias();
    const cursor = CURSOR_JSON[model](r);
    let edgeJson: string | null = null;
    let pageInfo: [GraphQLObjectType, Fields] | null = null;
    const json = this.object(connType, fields, '', (name, ns) => {
      const target = getNamedType(this.fieldOf(connType, name).type) as GraphQLObjectType;
      if (name === 'edges') {
        // One edges list per connection field (an alias of it is another connection field).
        if (edgeJson !== null) throw new Unsupported();
        edgeJson = this.edge(target, this.subfields(target, ns), r, cursor);
        return `'[' || ${c}.edges || ']'`;
      }
      if (name === 'pageInfo') {
        pageInfo = [target, this.subfields(target, ns)];
        return this.object(target, pageInfo[1], c, (n) => {
          if (n === 'hasNextPage') return `CASE WHEN ${c}.n > ${first} THEN 'true' ELSE 'false' END`;
          if (n === 'hasPreviousPage') return `CASE WHEN ${after} IS NOT NULL THEN 'true' ELSE 'false' END`;
          if (n === 'startCursor') return `COALESCE(${c}.startc, 'null')`;
          if (n === 'endCursor') return `COALESCE(${c}.endc, 'null')`;
          throw new Unsupported();
        });
      }
      throw new Unsupported();
    });
    const inPage = `${e}.ord <= ${first}`;
    const aggregates = [
      `count(*) AS n`,
      `CASE WHEN count(*) FILTER (WHERE ${inPage}) = count(${e}.e) FILTER (WHERE ${inPage}) THEN COALESCE(string_agg(${e}.e, ',' ORDER BY ${e}.ord) FILTER (WHERE ${inPage}), '') END AS edges`,
      `(array_agg(${e}.cur ORDER BY ${e}.ord) FILTER (WHERE ${inPage}))[1] AS startc`,
      `(array_agg(${e}.cur ORDER BY ${e}.ord DESC) FILTER (WHERE ${inPage}))[1] AS endc`,
    ];
    // OFFSET 0 keeps this subquery whole: flattened, each row's JSON would be built once per aggregate using it.
    const perRow = `SELECT ${r}.ord, CASE WHEN ${r}.ord <= ${first} THEN ${edgeJson ?? `''`} END AS e, ${pageInfo ? cursor : 'NULL::text'} AS cur
      FROM (SELECT q.*, row_number() OVER (ORDER BY ${order('q')}) AS ord FROM (${rows}) q) ${r} OFFSET 0`;
    return `(SELECT ${json} FROM (SELECT ${aggregates.join(', ')} FROM (${perRow}) ${e}) ${c})`;
  }

  private edge(type: GraphQLObjectType, fields: Fields, r: string, cursor: string): string {
    return this.object(type, fields, '', (name, nodes) => {
      if (name === 'cursor') return cursor;
      if (name !== 'node') throw new Unsupported();
      const target = getNamedType(this.fieldOf(type, name).type) as GraphQLObjectType;
      const sub = this.subfields(target, nodes);
      if (target.name === 'Job') return this.job(target, sub, r);
      return this.object(target, sub, r, () => {
        throw new Unsupported();
      });
    });
  }
}

function decodeCursor(cursor: string): unknown {
  try {
    return parsePrismaCursor(cursor);
  } catch {
    throw new NotCompiled();
  }
}

/** A nested list's `after` ([jobId, number or seq]), null without one; NotCompiled for a cursor Pothos refuses. */
function compoundCursor(after: unknown): [string, number] | null {
  if (after == null) return null;
  const parts = decodeCursor(after as string);
  if (!Array.isArray(parts) || parts.length !== 2 || !isId(parts[0])) throw new NotCompiled();
  const n = parts[1] as unknown;
  if (typeof n !== 'number' || !Number.isInteger(n) || Math.abs(n) > 2 ** 31 - 1) throw new NotCompiled();
  return [parts[0], n];
}
