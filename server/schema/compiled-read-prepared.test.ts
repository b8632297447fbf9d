// Which compiled read plans become prepared statements (named, planned once per connection): at most
// 8 texts per process, and only a text sent again and again (its third use), so that one-off
// documents — someone trying queries in GraphiQL — cannot take the places of a client's own queries.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

/** Sends `query` and returns the statement name its plan was sent under ('' unnamed), or null if no plan ran. */
async function planName(query: string): Promise<string | null> {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  let name: string | null = null;
  proto.query = function (this: unknown, ...a: unknown[]) {
    const q = a[0] as string | { text?: string; name?: string };
    if (typeof q === 'object' && q?.text?.startsWith('SELECT CASE WHEN')) name = q.name ?? '';
    return original.apply(this, a);
  };
  try {
    const res = await t.gql(query);
    expect(res.errors).toBeUndefined();
  } finally {
    proto.query = original;
  }
  return name;
}

it('names a plan on its third use, and twenty one-off documents before it do not take its place', async () => {
  for (let i = 0; i < 20; i++) expect(await planName(`{ a${i}: jobs(first: ${i + 1}) { pageInfo { hasNextPage } } }`)).toBe('');
  const repeated = '{ jobs(first: 5) { edges { node { id state } } } }';
  expect(await planName(repeated)).toBe('');
  expect(await planName(repeated)).toBe('');
  const named = await planName(repeated);
  expect(named).toMatch(/^autodev_read_[0-9a-f]{30}$/);
  expect(await planName(repeated)).toBe(named);
});

it('names at most 8 texts per process; a ninth, however often sent, stays unnamed and still answers', async () => {
  const names = new Set<string>();
  for (let i = 0; i < 12; i++) {
    const query = `{ b${i}: jobs(first: 3) { edges { cursor } } }`;
    for (let use = 0; use < 3; use++) {
      const name = await planName(query);
      if (name) names.add(name);
    }
  }
  expect(names.size).toBe(8 - 1); // the first test's text holds one place
});
