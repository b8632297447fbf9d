import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { formatPrismaCursor } from '@pothos/plugin-prisma';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';

let t: TestServer;
let theirs: string;
const theirJobs: string[] = [];
beforeAll(async () => {
  t = await startTestServer();
  for (let i = 0; i < 3; i++) await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
  theirs = await t.token('ADMIN', 'other');
  for (let i = 0; i < 3; i++)
    theirJobs.push((await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } }, theirs)).data.createJob.id);
});
afterAll(async () => {
  await t?.close();
});

const LISTS = {
  jobs: (arg: string) => `query($c: String) { jobs(${arg === 'after' ? 'first' : 'last'}: 2, ${arg}: $c) { edges { node { id } } } }`,
  templates: (arg: string) =>
    `query($c: String) { templates(${arg === 'after' ? 'first' : 'last'}: 2, ${arg}: $c) { edges { node { id } } } }`,
  reviews: (arg: string) => `query($c: String) { reviews(${arg === 'after' ? 'first' : 'last'}: 2, ${arg}: $c) { edges { node { id } } } }`,
};
const cursorOf = (id: string) => formatPrismaCursor({ id }, 'id');

describe('pagination cursors', () => {
  it('our own cursors page as before', async () => {
    const page1 = await t.gql(`{ jobs(first: 2) { pageInfo { endCursor } edges { node { id } } } }`);
    const page2 = await t.gql(LISTS.jobs('after'), { c: page1.data.jobs.pageInfo.endCursor });
    expect(page2.errors).toBeUndefined();
    expect(page2.data.jobs.edges).toHaveLength(1);
  });

  it("another project's cursor is BAD_USER_INPUT with the very answer a cursor of nothing gets (no existence oracle)", async () => {
    const foreign = await t.gql(LISTS.jobs('after'), { c: cursorOf(theirJobs[0]) });
    const nothing = await t.gql(LISTS.jobs('after'), { c: cursorOf(randomUUID()) });
    expect(foreign.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(foreign.data ?? null).toBeNull();
    expect(foreign).toEqual(nothing);
  });

  it('every cursor not given to this caller by this list is BAD_USER_INPUT, for every list, `after` and `before` (property)', async () => {
    const ourTemplate = (await t.gql(`{ templates(first: 1) { edges { node { id } } } }`)).data.templates.edges[0].node.id;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...(Object.keys(LISTS) as (keyof typeof LISTS)[])),
        fc.constantFrom('after', 'before'),
        fc.oneof(
          fc.constantFrom(...theirJobs).map(cursorOf), // another project's rows
          fc.uuid().map(cursorOf), // rows that do not exist
          fc.constant(cursorOf(ourTemplate)), // one of our rows, but of another list (templates excepted below)
          fc.string({ maxLength: 40 }), // not a cursor at all
          fc.string({ maxLength: 40 }).map((s) => Buffer.from(`GPC:${s}`).toString('base64')),
        ),
        async (list, arg, cursor) => {
          if (list === 'templates' && cursor === cursorOf(ourTemplate)) return;
          const res = await t.gql(LISTS[list](arg), { c: cursor });
          expect(res.errors?.[0].extensions?.code, `${list}(${arg}: ${cursor})`).toBe('BAD_USER_INPUT');
          expect(res.errors?.[0].message).toMatch(/cursor/);
        },
      ),
      { numRuns: 120 },
    );
  });
});
