// A crew whose models the runner could not call is refused up front: at upsertTemplate when a
// model names no configured provider, at createJob also when the provider's key variable is unset
// on a server whose runners take keys from its environment — never failing late in the runner.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import type { AppError } from '../errors.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { oneWriterTemplate } from '../test/fixtures.ts';
import { refuseUnconfiguredModels } from './model-availability.ts';

const PROVIDERS = JSON.stringify({ providers: { openai: { kind: 'openai', apiKeyEnv: 'OPENAI_API_KEY' } }, defaultProvider: 'openai' });
const agents = (...models: string[]) => models.map((model, i) => ({ id: `agent${i}`, model }));
const refusal = (f: () => void) => {
  try {
    f();
  } catch (err) {
    return err as AppError;
  }
  return undefined;
};

describe('refuseUnconfiguredModels', () => {
  const model = loadConfig({ AUTODEV_MODEL_PROVIDERS: PROVIDERS }).model;

  it('refuses nothing on the offline provider: every agent runs the offline model', () => {
    expect(refusal(() => refuseUnconfiguredModels(loadConfig({}).model, agents('nope:x', 'bare'), { keysFrom: {} }))).toBeUndefined();
  });

  it('a provider that is not configured: BAD_USER_INPUT naming the agent, the model, the provider and the configured ones', () => {
    const e = refusal(() =>
      refuseUnconfiguredModels(model, agents('openai:gpt-4o', 'local-qwen:qwen2.5-coder-32b'), { templateSlug: 'coder' }),
    );
    expect(e?.code).toBe('BAD_USER_INPUT');
    expect(e?.message).toBe(
      'Template `coder`: Agent `agent1` (`crew.agents[1].model`) names model `local-qwen:qwen2.5-coder-32b` of provider `local-qwen`, which is not configured (configured: anthropic, offline, openai): an operator adds it to AUTODEV_MODEL_PROVIDERS, or the template names another model.',
    );
    expect(e?.details).toMatchObject({ field: 'crew.agents[1].model', provider: 'local-qwen', reason: 'UNKNOWN_MODEL_PROVIDER' });
  });

  it('a bare model name without a default provider', () => {
    const noDefault = loadConfig({ AUTODEV_MODEL_PROVIDERS: JSON.stringify({ providers: {} }) }).model;
    const e = refusal(() => refuseUnconfiguredModels(noDefault, agents('gpt-4o-mini')));
    expect(e?.message).toContain('Agent `agent0` (`crew.agents[0].model`) names model `gpt-4o-mini` without a provider');
    expect(e?.message).toContain('defaultProvider in AUTODEV_MODEL_PROVIDERS');
  });

  it('a provider whose key variable is unset, when keys are checked: names the variable, never a value; set, it passes', () => {
    const e = refusal(() =>
      refuseUnconfiguredModels(model, agents('gpt-4o', 'anthropic:claude-sonnet-4-5'), { keysFrom: { OPENAI_API_KEY: 'sk-present' } }),
    );
    expect(e?.code).toBe('BAD_USER_INPUT');
    expect(e?.message).toBe(
      'Agent `agent1` (`crew.agents[1].model`) names model `anthropic:claude-sonnet-4-5` of provider `anthropic`, whose API key is read from the environment variable ANTHROPIC_API_KEY, which is not set on this server: an operator sets ANTHROPIC_API_KEY, or the template names a model of a provider that has its key.',
    );
    expect(e?.details).toMatchObject({ variable: 'ANTHROPIC_API_KEY', reason: 'MODEL_KEY_MISSING' });
    expect(JSON.stringify(e)).not.toContain('sk-present');
    expect(
      refusal(() =>
        refuseUnconfiguredModels(model, agents('gpt-4o', 'anthropic:claude-sonnet-4-5'), {
          keysFrom: { OPENAI_API_KEY: 'a', ANTHROPIC_API_KEY: 'b' },
        }),
      ),
    ).toBeUndefined();
    // Keys not checked (a template being saved, a Kubernetes runner).
    expect(refusal(() => refuseUnconfiguredModels(model, agents('anthropic:claude-sonnet-4-5')))).toBeUndefined();
  });

  it('the operator’s AUTODEV_MODEL is the one model that counts; the legacy endpoint’s key is AUTODEV_MODEL_API_KEY’s value', () => {
    const override = loadConfig({ AUTODEV_MODEL_PROVIDERS: PROVIDERS, AUTODEV_MODEL: 'anthropic:claude-haiku-4-5' }).model;
    const e = refusal(() => refuseUnconfiguredModels(override, agents('gpt-4o'), { keysFrom: { OPENAI_API_KEY: 'a' } }));
    expect(e?.message).toContain("The operator's AUTODEV_MODEL, which every agent uses, names model `anthropic:claude-haiku-4-5`");
    expect(e?.details).toMatchObject({ field: 'AUTODEV_MODEL' });
    const legacy = (apiKey?: string) =>
      loadConfig({
        AUTODEV_MODEL_PROVIDER: 'openai',
        AUTODEV_MODEL_BASE_URL: 'http://127.0.0.1:9/v1',
        ...(apiKey ? { AUTODEV_MODEL_API_KEY: apiKey } : {}),
      }).model;
    expect(refusal(() => refuseUnconfiguredModels(legacy('sk-x'), agents('gpt-4o-mini'), { keysFrom: {} }))).toBeUndefined();
    // Without a key the legacy endpoint is one without auth (a local server): nothing to refuse.
    expect(refusal(() => refuseUnconfiguredModels(legacy(), agents('gpt-4o-mini'), { keysFrom: {} }))).toBeUndefined();
  });
});

describe('through the API', () => {
  let t: TestServer;
  const saved = process.env.ANTHROPIC_API_KEY;
  beforeAll(async () => {
    delete process.env.ANTHROPIC_API_KEY;
    t = await startTestServer({ env: { AUTODEV_MODEL_PROVIDERS: PROVIDERS, OPENAI_API_KEY: 'sk-openai-for-the-worker' } });
  }, 60_000);
  afterAll(async () => {
    if (saved === undefined) delete process.env.ANTHROPIC_API_KEY;
    else process.env.ANTHROPIC_API_KEY = saved;
    await t?.close();
  });
  const UPSERT = `mutation($input: TemplateInput!) { upsertTemplate(input: $input) { slug } }`;
  const CREATE = `mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`;
  const withModel = (slug: string, model: string, executor?: object) => {
    const tpl = oneWriterTemplate(slug, { type: 'object' });
    tpl.crew.agents[0].model = model;
    return executor ? { ...tpl, executor } : tpl;
  };
  const jobCount = async () => (await t.app.services.pool.query(`SELECT count(*)::int AS n FROM "Job"`)).rows[0].n as number;

  it('upsertTemplate refuses a model of a provider that is not configured, and saves nothing', async () => {
    const res = await t.gql(UPSERT, { input: withModel('qwen-writer', 'local-qwen:qwen2.5-coder-32b') });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'crew.agents[0].model', provider: 'local-qwen' });
    expect(res.errors?.[0].message).toContain('Agent `writer` (`crew.agents[0].model`) names model `local-qwen:qwen2.5-coder-32b`');
    expect((await t.gql(`{ template(slug: "qwen-writer") { slug } }`)).data.template).toBeNull();
  });

  it('createJob refuses a crew whose provider has no key on this server (naming agent, model and variable), creates nothing, and accepts it once the key is set', async () => {
    // Saving it is fine: the key may be set later.
    expect((await t.gql(UPSERT, { input: withModel('claude-writer', 'anthropic:claude-sonnet-4-5') })).errors).toBeUndefined();
    const before = await jobCount();
    const res = await t.gql(CREATE, { input: { templateSlug: 'claude-writer', input: {} } });
    expect(res.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      variable: 'ANTHROPIC_API_KEY',
      model: 'anthropic:claude-sonnet-4-5',
    });
    expect(res.errors?.[0].message).toBe(
      'Template `claude-writer`: Agent `writer` (`crew.agents[0].model`) names model `anthropic:claude-sonnet-4-5` of provider `anthropic`, whose API key is read from the environment variable ANTHROPIC_API_KEY, which is not set on this server: an operator sets ANTHROPIC_API_KEY, or the template names a model of a provider that has its key.',
    );
    expect(await jobCount()).toBe(before);
    process.env.ANTHROPIC_API_KEY = 'sk-ant-set-by-the-operator';
    try {
      const ok = await t.gql(CREATE, { input: { templateSlug: 'claude-writer', input: {} } });
      expect(ok.errors).toBeUndefined();
      expect(await jobCount()).toBe(before + 1);
    } finally {
      delete process.env.ANTHROPIC_API_KEY;
    }
  });

  it('a Kubernetes runner takes its keys from its own Secret, which the server cannot see: not refused for the key', async () => {
    expect(
      (
        await t.gql(UPSERT, {
          input: withModel('claude-pod', 'anthropic:claude-sonnet-4-5', { kind: 'kubernetes', image: 'autodev-runner:1' }),
        })
      ).errors,
    ).toBeUndefined();
    const res = await t.gql(CREATE, { input: { templateSlug: 'claude-pod', input: {} } });
    expect(res.errors).toBeUndefined();
  });
});
