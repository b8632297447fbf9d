// A variable declared nullable with a default (`$id: ID = "…"`) may stand where a value is required
// (`job(id: $id)`, `@skip(if: $v)`): validation allows it, and the default stands in when the
// variable is left out. Sent as an explicit null, it used to fail inside execution, where an
// argument's coercion error looks like a server fault: INTERNAL_SERVER_ERROR. The whole class is
// generated here from the schema: every required argument of every root field, and of the fields one
// level below, each fed such a variable set to null.
import { isNonNullType, type GraphQLArgument, type GraphQLObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../schema/index.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { literal, selectionOf } from '../test/schema-literals.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

interface Case {
  text: string;
  variables: Record<string, unknown>;
  label: string;
}

/** One request per required argument: that argument fed `$v` (nullable, with a default) = null, the others their literals. */
function casesOf(kind: 'query' | 'mutation' | 'subscription', root: GraphQLObjectType): Case[] {
  const cases: Case[] = [];
  for (const field of Object.values(root.getFields())) {
    const args = field.args;
    for (const target of args.filter((a) => isNonNullType(a.type))) {
      const others = args.filter((a) => a !== target && isNonNullType(a.type));
      const otherLiterals = others.map((a: GraphQLArgument) => [a.name, literal(a.type)] as const);
      const defaultValue = literal(target.type);
      if (defaultValue === null || otherLiterals.some(([, v]) => v === null)) continue;
      const nullable = String(target.type).replace(/!$/, '');
      const argText = [`${target.name}: $v`, ...otherLiterals.map(([n, v]) => `${n}: ${v}`)].join(', ');
      cases.push({
        text: `${kind}($v: ${nullable} = ${defaultValue}) { ${field.name}(${argText})${selectionOf(field)} }`,
        variables: { v: null },
        label: `${kind} ${field.name}(${target.name})`,
      });
    }
  }
  return cases;
}

async function expectClearRefusal(c: Case) {
  const res = await t.gql(c.text, c.variables);
  const codes = (res.errors ?? []).map((e) => e.extensions?.code);
  expect({ label: c.label, codes }).toEqual({ label: c.label, codes: ['BAD_USER_INPUT'] });
  expect(res.errors![0].message).toMatch(/\$v.*null/);
}

describe('a nullable variable with a default, sent as null where a value is required', () => {
  it('every required argument of every query and mutation: BAD_USER_INPUT naming the variable, never INTERNAL_SERVER_ERROR', async () => {
    const cases = [...casesOf('query', schema.getQueryType()!), ...casesOf('mutation', schema.getMutationType()!)];
    // The schema has dozens of required arguments; a generator that built nothing would prove nothing.
    expect(cases.length).toBeGreaterThan(20);
    for (const c of cases) await expectClearRefusal(c);
  });

  it('every required argument of every subscription, over the WebSocket: an error message with BAD_USER_INPUT', async () => {
    const cases = casesOf('subscription', schema.getSubscriptionType()!);
    expect(cases.length).toBeGreaterThan(1);
    const client = t.ws();
    try {
      for (const c of cases) {
        // A refused subscription arrives as graphql-ws' `next` carrying only errors (then `complete`),
        // or as its `error` message: either way, errors and no data.
        type Answer = { errors?: readonly { message: string; extensions?: { code?: unknown } }[]; data?: unknown };
        const answer = await new Promise<Answer>((resolve) => {
          client.subscribe(
            { query: c.text, variables: c.variables },
            {
              next: (value) => resolve(value as Answer),
              error: (e) => resolve({ errors: e as Answer['errors'] }),
              complete: () => resolve({}),
            },
          );
        });
        expect(answer.data ?? null).toBeNull();
        const errors = answer.errors ?? [];
        expect({ label: c.label, codes: errors.map((e) => e.extensions?.code) }).toEqual({ label: c.label, codes: ['BAD_USER_INPUT'] });
        expect(errors[0].message).toMatch(/\$v.*null/);
      }
    } finally {
      await client.dispose();
    }
  });

  it('inside an input object and a list, and in a fragment', async () => {
    await expectClearRefusal({
      label: 'field of an input object',
      text: 'mutation($v: String = "x") { createJob(input: { templateSlug: $v, input: {} }) { __typename } }',
      variables: { v: null },
    });
    await expectClearRefusal({
      label: 'item of a list',
      text: 'query($v: JobState = QUEUED) { jobs(first: 1, filter: { states: [$v] }) { pageInfo { hasNextPage } } }',
      variables: { v: null },
    });
    await expectClearRefusal({
      label: 'fragment',
      text: 'query($v: ID = "00000000-0000-4000-8000-000000000000") { ...F } fragment F on Query { job(id: $v) { id } }',
      variables: { v: null },
    });
  });

  it('@skip and @include: BAD_USER_INPUT, on the root and nested, in the general path too', async () => {
    for (const directive of ['skip', 'include']) {
      for (const text of [
        `query($v: Boolean = false) { jobs(first: 1) @${directive}(if: $v) { pageInfo { hasNextPage } } }`,
        `query($v: Boolean = false) { jobs(first: 1) { edges { node { id state @${directive}(if: $v) } } } }`,
        `query($v: Boolean = false) { jobs(first: 1) { edges { node { id input @${directive}(if: $v) } } } }`,
      ]) {
        await expectClearRefusal({ label: text, text, variables: { v: null } });
      }
    }
  });

  it('left out, the default applies; sent as a value, it is used', async () => {
    const q = 'query($v: Boolean = false) { jobs(first: 1) @include(if: $v) { pageInfo { hasNextPage } } }';
    expect((await t.gql(q, {})).errors).toBeUndefined();
    expect((await t.gql(q, { v: true })).data.jobs).toHaveProperty('pageInfo');
  });
});
