import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';

const SET_PRICE = `mutation($input: ModelPriceInput!) { setModelPrice(input: $input) { model inputUsdPerMillion outputUsdPerMillion updatedAt } }`;
const UPSERT = `mutation($input: TemplateInput!) { upsertTemplate(input: $input) { slug version } }`;

function template(models: string[]) {
  return {
    slug: 'priced',
    name: 'Priced',
    crew: {
      process: 'sequential',
      agents: models.map((model, i) => ({ id: `agent${i}`, role: 'Writer', goal: 'Write', backstory: 'Writes things.', model })),
      tasks: [{ id: 'write', description: 'Write it', expectedOutput: 'Text', agent: 'agent0' }],
    },
    inputSchema: { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] },
    outputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  };
}

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

describe('model prices', () => {
  it('every signed-in token reads the price table, seeded with the bundled templates’ models', async () => {
    const res = await t.gql(`{ models { model inputUsdPerMillion outputUsdPerMillion updatedAt } }`, {}, await t.token('VIEWER'));
    expect(res.errors).toBeUndefined();
    expect(res.data.models).toContainEqual(expect.objectContaining({ model: 'gpt-4o', inputUsdPerMillion: 2.5, outputUsdPerMillion: 10 }));
    const templates = await t.gql(`{ templates(first: 100) { edges { node { slug crew } } } }`);
    const priced = new Set(res.data.models.map((m: any) => m.model));
    for (const { node } of templates.data.templates.edges)
      for (const a of node.crew.agents) expect(priced, `${node.slug}: ${a.model}`).toContain(a.model);
    expect((await t.gql(`{ models { model } }`, {}, null)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('an admin sets a price and `models` shows it; setting it again replaces it', async () => {
    const set = await t.gql(SET_PRICE, { input: { model: 'acme-large', inputUsdPerMillion: 1.25, outputUsdPerMillion: 4 } });
    expect(set.errors).toBeUndefined();
    expect(set.data.setModelPrice).toMatchObject({ model: 'acme-large', inputUsdPerMillion: 1.25, outputUsdPerMillion: 4 });
    await t.gql(SET_PRICE, { input: { model: 'acme-large', inputUsdPerMillion: 0, outputUsdPerMillion: 0.00000001 } });
    const models = (await t.gql(`{ models { model inputUsdPerMillion outputUsdPerMillion } }`, {}, await t.token('OPERATOR'))).data.models;
    expect(models.filter((m: any) => m.model === 'acme-large')).toEqual([
      { model: 'acme-large', inputUsdPerMillion: 0, outputUsdPerMillion: 0.00000001 },
    ]);
  });

  it('an operator may not set a price (FORBIDDEN naming ADMIN), and the table is unchanged', async () => {
    const res = await t.gql(
      SET_PRICE,
      { input: { model: 'gpt-4o', inputUsdPerMillion: 0, outputUsdPerMillion: 0 } },
      await t.token('OPERATOR'),
    );
    expect(res.errors![0].extensions?.code).toBe('FORBIDDEN');
    expect(res.errors![0].message).toContain('ADMIN');
    const gpt = (await t.gql(`{ models { model inputUsdPerMillion } }`)).data.models.find((m: any) => m.model === 'gpt-4o');
    expect(gpt.inputUsdPerMillion).toBe(2.5);
  });

  it("another project's ADMIN may not set a price (prices are every project's): FORBIDDEN, and the table is unchanged", async () => {
    const res = await t.gql(
      SET_PRICE,
      { input: { model: 'gpt-4o', inputUsdPerMillion: 0, outputUsdPerMillion: 0 } },
      await t.token('ADMIN', 'tenant-b'),
    );
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(res.errors![0].message).toContain('operator');
    const gpt = (await t.gql(`{ models { model inputUsdPerMillion } }`)).data.models.find((m: any) => m.model === 'gpt-4o');
    expect(gpt.inputUsdPerMillion).toBe(2.5);
  });

  it('refuses any negative, too large, non-finite or too small to keep (stored as 0) amount and any empty, long or padded name with BAD_USER_INPUT', async () => {
    const badAmount = fc.oneof(
      fc.double({ max: -Number.MIN_VALUE, noNaN: true }),
      fc.double({ min: 1_000_000.01, noNaN: true }),
      fc.double({ min: Number.MIN_VALUE, max: 0.000000004999, noNaN: true }),
    );
    const badName = fc.oneof(
      fc.constant(''),
      fc.string({ minLength: 201, maxLength: 300 }),
      fc.string({ minLength: 1, maxLength: 20 }).map((s) => ` ${s}`),
      fc.constant('a\nb'),
    );
    const cases = fc.oneof(
      fc.record({ model: fc.constant('fuzz-model'), inputUsdPerMillion: badAmount, outputUsdPerMillion: fc.constant(1) }),
      fc.record({ model: fc.constant('fuzz-model'), inputUsdPerMillion: fc.constant(1), outputUsdPerMillion: badAmount }),
      fc.record({ model: badName, inputUsdPerMillion: fc.constant(1), outputUsdPerMillion: fc.constant(1) }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async (input) => {
        const res = await t.gql(SET_PRICE, { input });
        // Infinity is not a JSON number: it reaches GraphQL as null, a GraphQL validation error.
        const code = res.errors?.[0]?.extensions?.code;
        expect(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED']).toContain(code);
        expect(res.errors![0].message.length).toBeGreaterThan(20);
      }),
      { numRuns: 40 },
    );
    const models = (await t.gql(`{ models { model } }`)).data.models.map((m: any) => m.model);
    expect(models.filter((m: string) => m !== m.trim() || m === '' || m.length > 200 || m === 'fuzz-model')).toEqual([]);
  });

  it('refuses a template whose agent uses a model with no price, naming the agent and the model; after setModelPrice it is saved', async () => {
    const res = await t.gql(UPSERT, { input: template(['gpt-4o', 'acme-unpriced']) });
    expect(res.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'crew.agents[1].model', model: 'acme-unpriced' });
    expect(res.errors![0].message).toContain('agent1');
    expect(res.errors![0].message).toContain('acme-unpriced');
    expect((await t.gql(`{ template(slug: "priced") { slug } }`)).data.template).toBeNull();

    await t.gql(SET_PRICE, { input: { model: 'acme-unpriced', inputUsdPerMillion: 1, outputUsdPerMillion: 2 } });
    const again = await t.gql(UPSERT, { input: template(['gpt-4o', 'acme-unpriced']) });
    expect(again.errors).toBeUndefined();
    expect(again.data.upsertTemplate.slug).toBe('priced');
  });

  it('refuses a job up front when a price was removed since its template was saved', async () => {
    await t.gql(SET_PRICE, { input: { model: 'acme-doomed', inputUsdPerMillion: 1, outputUsdPerMillion: 2 } });
    expect((await t.gql(UPSERT, { input: { ...template(['acme-doomed']), slug: 'doomed' } })).errors).toBeUndefined();
    await t.app.services.pool.query(`DELETE FROM "ModelPrice" WHERE model = 'acme-doomed'`);
    const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'doomed', input: { topic: 'x' } } });
    expect(res.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'crew.agents[0].model', model: 'acme-doomed' });
    expect(res.errors![0].message).toContain('doomed');
    const jobs = await t.app.services.pool.query(
      `SELECT count(*)::int AS n FROM "Job" j JOIN "Template" tp ON tp.id = j."templateId" WHERE tp.slug = 'doomed'`,
    );
    expect(jobs.rows[0].n).toBe(0);
  });
});

describe('model prices under the operator’s AUTODEV_MODEL override', () => {
  let o: TestServer;
  beforeAll(async () => {
    o = await startTestServer({ env: { AUTODEV_MODEL: 'acme-override' } });
  });
  afterAll(async () => {
    await o?.close();
  });

  it('the override’s price is the one that counts: unpriced, templates and jobs are refused naming it; priced, both go through', async () => {
    const tpl = await o.gql(UPSERT, { input: template(['gpt-4o']) });
    expect(tpl.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'AUTODEV_MODEL', model: 'acme-override' });
    expect(tpl.errors![0].message).toContain('acme-override');
    const job = await o.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
    expect(job.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'AUTODEV_MODEL', model: 'acme-override' });

    await o.gql(SET_PRICE, { input: { model: 'acme-override', inputUsdPerMillion: 1, outputUsdPerMillion: 1 } });
    // An agent's own unpriced model does not matter: the override is what runs and is charged.
    expect((await o.gql(UPSERT, { input: template(['never-priced']) })).errors).toBeUndefined();
    expect((await o.gql(CREATE_JOB, { input: { templateSlug: 'priced', input: { topic: 'x' } } })).errors).toBeUndefined();
  });
});
