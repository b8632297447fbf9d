import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_JOB, oneWriterTemplate as template } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { seedTemplates } from './seed-templates.ts';

// Templates' schemas through the public API: what an admin who writes one, and an operator who
// runs jobs from it, observe.

const UPSERT = /* GraphQL */ `
  mutation Upsert($input: TemplateInput!) {
    upsertTemplate(input: $input) {
      slug
      version
      inputSchema
    }
  }
`;

let t: TestServer;
let otherAdmin: string;
beforeAll(async () => {
  t = await startTestServer();
  otherAdmin = await t.token('ADMIN', 'other-project');
});
afterAll(async () => {
  await t?.close();
});

describe('a template pattern cannot block the server', () => {
  it('answers createJob on ^(a+)+$ with a 40-character input at once, and /healthz stays fast meanwhile', async () => {
    const evil = { type: 'object', properties: { name: { type: 'string', pattern: '^(a+)+$' } }, required: ['name'] };
    expect((await t.gql(UPSERT, { input: template('evil-pattern', evil) })).errors).toBeUndefined();

    let polling = true;
    let worstHealthz = 0;
    const poller = (async () => {
      while (polling) {
        const start = performance.now();
        expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
        worstHealthz = Math.max(worstHealthz, performance.now() - start);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const timings: number[] = [];
    for (const n of [31, 40, 200_000]) {
      const start = performance.now();
      const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'evil-pattern', input: { name: 'a'.repeat(n) + '!' } } });
      timings.push(performance.now() - start);
      expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0].message).toContain('`name` must match pattern');
    }
    polling = false;
    await poller;
    console.log(
      `createJob on ^(a+)+$: ${timings.map((ms) => ms.toFixed(0)).join(' / ')} ms (31, 40, 200,000 chars); worst /healthz ${worstHealthz.toFixed(0)} ms`,
    );
    for (const ms of timings) expect(ms).toBeLessThan(1000);
    expect(worstHealthz).toBeLessThan(1000);
  });

  it('refuses at upsertTemplate a pattern RE2 cannot run, naming the field, so no job ever meets it', async () => {
    const res = await t.gql(UPSERT, {
      input: template('backref', { type: 'object', properties: { twice: { type: 'string', pattern: '^(ab)\\1$' } } }),
    });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toContain('`inputSchema.properties.twice.pattern` is a pattern this server cannot run');
    expect((await t.gql(`{ template(slug: "backref") { slug } }`)).data.template).toBeNull();
  });
});

describe('schema $id and $ref', () => {
  const withId = (extra: object = {}) => ({
    $id: 'https://schemas.example/job-input',
    type: 'object',
    properties: { n: { $ref: '#/definitions/count' } },
    definitions: { count: { type: 'integer' } },
    required: ['n'],
    ...extra,
  });

  it('runs a template whose schema has $id, again and again, and the same $id in another project', async () => {
    expect((await t.gql(UPSERT, { input: template('with-id', withId()) })).errors).toBeUndefined();
    expect((await t.gql(UPSERT, { input: template('with-id', withId({ title: 'v2' })) })).errors).toBeUndefined();
    expect((await t.gql(UPSERT, { input: template('with-id', withId({ title: 'v3' })) }, otherAdmin)).errors).toBeUndefined();
    for (const token of [t.adminToken, t.adminToken, otherAdmin]) {
      const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'with-id', input: { n: 3 } } }, token);
      expect(res.errors).toBeUndefined();
      expect(res.data.createJob.state).toBe('QUEUED');
    }
    const wrong = await t.gql(CREATE_JOB, { input: { templateSlug: 'with-id', input: { n: 'three' } } }, otherAdmin);
    expect(wrong.errors?.[0].message).toContain('`n` must be an integer');
  });

  it("refuses a $ref to another project's schema", async () => {
    await t.gql(UPSERT, { input: template('with-id', withId()) });
    const res = await t.gql(
      UPSERT,
      {
        input: template('borrower', {
          type: 'object',
          properties: { n: { $ref: 'https://schemas.example/job-input#/definitions/count' } },
        }),
      },
      otherAdmin,
    );
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toContain('a `$ref` may only point inside the same schema');
  });
});

describe("a template's schemas keep the author's key order", () => {
  const READ = /* GraphQL */ `
    query ($slug: String!) {
      template(slug: $slug) {
        inputSchema
        outputSchema
      }
    }
  `;

  it('reads back properties z, a, m in that order (and every nested key as written)', async () => {
    const inputSchema = {
      type: 'object',
      required: ['z', 'a'],
      properties: {
        z: { type: 'string', title: 'Zeta', description: 'first on the form' },
        a: { type: 'object', properties: { y: { type: 'integer' }, b: { type: 'boolean' } } },
        m: { type: 'array', items: { type: 'string' } },
      },
      additionalProperties: false,
    };
    const upserted = await t.gql(UPSERT, { input: template('ordered', inputSchema) });
    expect(Object.keys(upserted.data.upsertTemplate.inputSchema.properties)).toEqual(['z', 'a', 'm']);
    const read = (await t.gql(READ, { slug: 'ordered' })).data.template;
    expect(Object.keys(read.inputSchema.properties)).toEqual(['z', 'a', 'm']);
    expect(JSON.stringify(read.inputSchema)).toBe(JSON.stringify(inputSchema));
  });

  it('serves the bundled templates in their files’ order, also where an older server had stored them reordered', async () => {
    const files = ['triage-bug', 'implement-feature', 'write-unit-tests'].map((slug) => ({
      slug,
      file: JSON.parse(readFileSync(new URL(`../../schemas/templates/${slug}.json`, import.meta.url), 'utf8')),
    }));
    const pool = t.app.services.pool;
    // As a jsonb column stored them: keys sorted by length, then bytes.
    await pool.query(`UPDATE "Template" SET "inputSchema" = ("inputSchema"::jsonb)::json, "outputSchema" = ("outputSchema"::jsonb)::json`);
    const { rows } = await pool.query(`SELECT "projectId" FROM "Template" WHERE slug = 'triage-bug' LIMIT 1`);
    await seedTemplates(pool, rows[0].projectId);
    for (const { slug, file } of files) {
      const read = (await t.gql(READ, { slug })).data.template;
      expect(JSON.stringify(read.inputSchema), slug).toBe(JSON.stringify(file.inputSchema));
      expect(JSON.stringify(read.outputSchema), slug).toBe(JSON.stringify(file.outputSchema));
    }
  });
});
