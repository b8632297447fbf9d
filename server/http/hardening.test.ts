import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatDocument } from '@urql/core';
import { parse, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startTestServer, type TestServer } from '../test/harness.ts';
import { QUERY_LIMITS } from './hardening.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({
    env: {
      NODE_ENV: 'production',
      AUTODEV_RATE_LIMIT_MUTATIONS_PER_MINUTE: '5',
      AUTODEV_MAX_SUBSCRIPTIONS_PER_TOKEN: '3',
      AUTODEV_MAX_REQUEST_BYTES: '65536',
    },
  });
});
afterAll(async () => {
  await t?.close();
});

const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminToken}`, ...headers },
    body,
  });

describe('query limits (graphql-armor)', () => {
  it('refuses a query nested deeper than the limit with QUERY_TOO_COMPLEX', async () => {
    const nest = (n: number): string => (n === 0 ? 'id' : `review { job { ${nest(n - 1)} } }`);
    const deep = await t.gql(`query($id: ID!) { job(id: $id) { ${nest(8)} } }`, { id: '00000000-0000-4000-8000-000000000000' });
    expect(deep.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(deep.errors?.[0].message).toMatch(`Query depth limit of ${QUERY_LIMITS.maxDepth} exceeded`);
  });

  it('lets every operation the web app sends through', async () => {
    const dir = fileURLToPath(new URL('../../client/src/', import.meta.url));
    const sources = readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.tsx?$/.test(f) && !f.startsWith('gql'))
      .flatMap((f) => [...readFileSync(dir + f, 'utf8').matchAll(/graphql\(`([^`]+)`\)/g)].map((m) => m[1]));
    const fragments = sources.filter((s) => /^\s*fragment /.test(s)).join('\n');
    const operations = sources.filter((s) => /^\s*(query|mutation|subscription) /.test(s));
    expect(operations.length).toBeGreaterThanOrEqual(15);
    for (const op of operations) {
      // As urql sends it: with __typename added to every selection (it counts against the cost).
      const used = print(formatDocument(parse(/\.\.\.\w+/.test(op) ? `${op}\n${fragments}` : op)));
      // Variables are missing, so most answer with a variable error: what matters is the limits passed.
      if (/^\s*subscription /.test(op)) {
        const sub = collect(t.ws(), used, {}, () => true, 3000);
        const outcome = await sub.done.catch((e: unknown) => e);
        expect(JSON.stringify([sub.errors, String(outcome)]), op.slice(0, 60)).not.toMatch(/QUERY_TOO_COMPLEX|limit of \d+ exceeded/);
        continue;
      }
      const res = await t.gql(used, {});
      expect(res.errors?.filter((e) => e.extensions?.code === 'QUERY_TOO_COMPLEX') ?? [], op.slice(0, 60)).toEqual([]);
    }
  });

  it('refuses too many aliases, too many tokens and too many directives', async () => {
    const aliases = Array.from({ length: QUERY_LIMITS.maxAliases + 1 }, (_, i) => `a${i}: templates { slug }`).join(' ');
    expect((await t.gql(`{ ${aliases} }`)).errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    const tokens = `{ templates { ${Array.from({ length: QUERY_LIMITS.maxTokens }, () => 'slug').join(' ')} } }`;
    expect((await t.gql(tokens)).errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    const directives = `{ templates { slug ${Array.from({ length: QUERY_LIMITS.maxDirectives + 1 }, () => '@include(if: true)').join(' ')} } }`;
    expect((await t.gql(directives)).errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
  });

  it('accepts up to 10 operations in a batch and refuses more', async () => {
    const op = { query: '{ viewer { role } }' };
    const ok = await post(JSON.stringify(Array(10).fill(op)));
    expect(ok.status).toBe(200);
    expect((await ok.json()).map((r: any) => r.data.viewer.role)).toEqual(Array(10).fill('ADMIN'));
    const tooMany = await post(JSON.stringify(Array(11).fill(op)));
    expect(tooMany.status).toBeGreaterThanOrEqual(400);
    expect(tooMany.status).toBeLessThan(500);
    expect((await tooMany.json()).errors[0].message).toMatch(/batch/i);
  });

  it('refuses a body over the size limit (413) or without a length (411) before reading it', async () => {
    const big = await post(JSON.stringify({ query: '{ viewer { role } }', variables: { pad: 'x'.repeat(70_000) } }));
    expect(big.status).toBe(413);
    expect((await big.json()).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    const chunked = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start: (c) => {
          c.enqueue(new TextEncoder().encode('{"query":"{ viewer { role } }"}'));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(411);
  });
});

describe('introspection in production', () => {
  it('needs an API token; field suggestions are not given', async () => {
    const anonymous = await t.gql(`{ __schema { types { name } } }`, {}, null);
    expect(anonymous.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(anonymous.data?.__schema).toBeFalsy();
    const withToken = await t.gql(`{ __schema { queryType { name } } }`);
    expect(withToken.data.__schema.queryType.name).toBe('Query');
    const typo = await t.gql(`{ templatez { slug } }`);
    expect(typo.errors?.[0].message).not.toMatch(/Did you mean/);
  });
});

describe('rate limits per token', () => {
  it('mutations over the limit get RATE_LIMITED with a retry time; another token is unaffected', async () => {
    const token = await t.token('ADMIN');
    const other = await t.token('ADMIN');
    const mutate = (tok: string) =>
      t.gql(
        `mutation($input: ApiTokenInput!) { createApiToken(input: $input) { tokenId } }`,
        { input: { name: 'rl', role: 'VIEWER' } },
        tok,
      );
    const results = await Promise.all(Array.from({ length: 8 }, () => mutate(token)));
    const limited = results.filter((r) => r.errors?.[0].extensions?.code === 'RATE_LIMITED');
    expect(results.length - limited.length).toBe(5);
    expect(limited).toHaveLength(3);
    expect(limited[0].errors![0].message).toMatch(/limit is 5 per minute/);
    expect(limited[0].errors![0].extensions!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((await mutate(other)).errors).toBeUndefined();
    // Queries are not counted.
    expect((await t.gql(`{ viewer { role } }`, {}, token)).errors).toBeUndefined();
  });

  it('subscriptions over the per-token limit get RATE_LIMITED; closing one frees a place', async () => {
    const token = await t.token('VIEWER');
    // The server's open projectEvents subscriptions (it counts them as the limit does: at start and end).
    const opened = async () =>
      (await t.app.services.metrics.subscriptions.get()).values.find((v) => v.labels.field === 'projectEvents')?.value ?? 0;
    // The earlier tests' subscriptions have ended (the web app's operations above stop within 3 s).
    await expect.poll(opened).toBe(0);
    const client = t.ws(token);
    const open = [0, 1, 2].map(() => collect(client, `subscription { projectEvents { seq } }`, {}, () => false, 60_000));
    await open[2].ready;
    await expect.poll(opened).toBe(3);
    const fourth = collect(client, `subscription { projectEvents { seq } }`, {}, () => false, 5_000);
    const refused = await fourth.done.catch((e: unknown) => e);
    const code = JSON.stringify(fourth.errors) + String(refused);
    expect(code).toMatch(/RATE_LIMITED/);
    // Another client of the same token: same limit (it is per token, not per connection).
    await client.dispose();
    await expect.poll(opened).toBe(0);
    const again = collect(t.ws(token), `subscription { projectEvents { seq } }`, {}, () => false, 2_000);
    await expect(again.done).rejects.toThrow(/timed out with 0 items/); // still open when the wait ended: accepted
    expect(again.errors).toEqual([]);
  });
});
