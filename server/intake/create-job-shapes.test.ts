import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { TRIAGE_INPUT } from '../test/fixtures.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

const SHAPES: [string, string, Record<string, unknown>?][] = [
  ['typename only', '__typename'],
  ['aliases', 'a: id b: id s: state c: costUsd m: maxCostUsd when: createdAt'],
  ['fragment', '...F', undefined],
  ['inline fragment', '... on Job { id state createdAt maxCostUsd }'],
  ['large fields', 'id input output feedback lastError'],
  ['skipped relation', 'id state template @skip(if: $yes) { slug }', { yes: true }],
  ['included relation', 'id state template @include(if: $yes) { slug version }', { yes: true }],
  ['relation in fragment', 'id ...T', undefined],
  ['connection', 'id events(first: 5) { edges { node { seq type } } } attempts { edges { node { id } } }'],
  ['review + artifacts', 'id review { id } reviews { id } artifacts { id }'],
];
const FRAGS =
  'fragment F on Job { id state templateVersion idempotencyKey costUsd maxCostUsd attemptCount createdBy createdAt updatedAt finishedAt } fragment T on Job { template { slug } }';

describe('createJob result under selection shapes', () => {
  for (const [name, sel, vars] of SHAPES) {
    it(name, async () => {
      const usesF = sel.includes('...F') || sel.includes('...T');
      const frag = usesF
        ? FRAGS.split(' fragment ')
            .map((f, i) => (i ? 'fragment ' + f : f))
            .filter((f) => sel.includes('...' + f.split(' ')[1]))
            .join(' ')
        : '';
      const decl = vars ? ', $yes: Boolean!' : '';
      const res = await t.gql(`mutation($input: CreateJobInput!${decl}) { createJob(input: $input) { ${sel} } } ${frag}`, {
        input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT, maxCostUsd: 0.5, idempotencyKey: `shape-${name}-${Date.now()}` },
        ...(vars ?? {}),
      });
      expect(res.errors).toBeUndefined();
      const id = (await t.app.services.pool.query(`SELECT id FROM "Job" ORDER BY "createdAt" DESC LIMIT 1`)).rows[0].id;
      const read = await t.gql(`query($id: ID!${decl}) { job(id: $id) { ${sel} } } ${frag}`, { id, ...(vars ?? {}) });
      expect(read.errors).toBeUndefined();
      expect(res.data.createJob).toEqual(read.data.job);
    });
  }
});
