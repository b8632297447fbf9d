import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { MAX_ENDPOINTS_PER_PROJECT, signingSecrets } from './endpoints.ts';

const CREATE = /* GraphQL */ `
  mutation ($input: WebhookEndpointInput!) {
    createWebhookEndpoint(input: $input) {
      secret
      endpoint {
        id
        url
        description
        eventTypes
        enabled
        previousSecretExpiresAt
      }
    }
  }
`;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

const stored = async (id: string) =>
  (await t.app.services.pool.query(`SELECT secret, "previousSecret", "previousSecretExpiresAt" FROM "WebhookEndpoint" WHERE id = $1`, [id]))
    .rows[0];

describe('webhook endpoints (ADMIN)', () => {
  it('creates an endpoint with a whsec_ secret shown once, edits the fields given, deletes it', async () => {
    const res = await t.gql(CREATE, {
      input: {
        url: ' https://hooks.example.com/autodev ',
        eventTypes: ['JOB_STATE_CHANGED', 'REVIEW_REQUESTED', 'JOB_STATE_CHANGED'],
        description: 'CI',
      },
    });
    expect(res.errors).toBeUndefined();
    const { secret, endpoint } = res.data.createWebhookEndpoint;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(endpoint).toMatchObject({
      url: 'https://hooks.example.com/autodev',
      description: 'CI',
      eventTypes: ['JOB_STATE_CHANGED', 'REVIEW_REQUESTED'],
      enabled: true,
      previousSecretExpiresAt: null,
    });
    expect((await stored(endpoint.id)).secret).toBe(secret);

    const listed = await t.gql(`{ webhookEndpoints { id url } }`);
    expect(listed.data.webhookEndpoints).toEqual([{ id: endpoint.id, url: 'https://hooks.example.com/autodev' }]);
    expect(JSON.stringify(listed)).not.toContain(secret);

    const updated = await t.gql(
      `mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { enabled: false, eventTypes: [BUDGET_THRESHOLD] }) { url eventTypes enabled description } }`,
      { id: endpoint.id },
    );
    expect(updated.data.updateWebhookEndpoint).toEqual({
      url: 'https://hooks.example.com/autodev',
      eventTypes: ['BUDGET_THRESHOLD'],
      enabled: false,
      description: 'CI',
    });

    expect((await t.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: endpoint.id })).data.deleteWebhookEndpoint).toBe(
      true,
    );
    const again = await t.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: endpoint.id });
    expect(again.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('refuses bad URLs, private IP literals (AUTODEV_WEBHOOK_ALLOW_PRIVATE unset) and empty or unknown event types, naming the field', async () => {
    expect(t.app.services.config.webhookAllowPrivate).toBe(false);
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 'ftp://example.com/x', eventTypes: ['JOB_STATE_CHANGED'] }, 'url'],
      [{ url: 'https://user:pw@example.com/', eventTypes: ['JOB_STATE_CHANGED'] }, 'url'],
      [{ url: 'http://127.0.0.1:8080/', eventTypes: ['JOB_STATE_CHANGED'] }, 'url'],
      [{ url: 'http://169.254.169.254/latest', eventTypes: ['JOB_STATE_CHANGED'] }, 'url'],
      [{ url: 'http://[::1]/', eventTypes: ['JOB_STATE_CHANGED'] }, 'url'],
      [{ url: `https://example.com/${'a'.repeat(2000)}`, eventTypes: ['JOB_STATE_CHANGED'] }, 'url'],
      [{ url: 'https://example.com/', eventTypes: [] }, 'eventTypes'],
      [{ url: 'https://example.com/', eventTypes: ['JOB_STATE_CHANGED'], description: 'd'.repeat(501) }, 'description'],
    ];
    for (const [input, field] of cases) {
      const res = await t.gql(CREATE, { input });
      expect(res.errors?.[0]?.extensions, JSON.stringify(input).slice(0, 80)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const unknown = await t.gql(CREATE, { input: { url: 'https://example.com/', eventTypes: ['NOPE'] } });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await t.gql(`{ webhookEndpoints { id } }`)).data.webhookEndpoints).toEqual([]);
  });

  it('a private IP literal is accepted when the operator allows private destinations', async () => {
    expect([undefined, 'true', '1', 'yes'].map((v) => loadConfig({ AUTODEV_WEBHOOK_ALLOW_PRIVATE: v }).webhookAllowPrivate)).toEqual([
      false,
      true,
      true,
      false,
    ]);
    t.app.services.config.webhookAllowPrivate = true; // what loadConfig gives for AUTODEV_WEBHOOK_ALLOW_PRIVATE=true
    try {
      const res = await t.gql(CREATE, { input: { url: 'http://127.0.0.1:9/hook', eventTypes: ['INPUT_REQUESTED'] } });
      expect(res.errors).toBeUndefined();
      await t.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: res.data.createWebhookEndpoint.endpoint.id });
    } finally {
      t.app.services.config.webhookAllowPrivate = false;
    }
  });

  it('rotation: a new secret, the previous one signing next to it until the time asked for; 0 retires it at once', async () => {
    const { secret: first, endpoint } = (
      await t.gql(CREATE, { input: { url: 'https://example.com/r', eventTypes: ['JOB_STATE_CHANGED'] } })
    ).data.createWebhookEndpoint;
    const rotated = await t.gql(
      `mutation($id: ID!) { rotateWebhookSecret(id: $id, keepPreviousSeconds: 3600) { secret endpoint { previousSecretExpiresAt } } }`,
      { id: endpoint.id },
    );
    const second = rotated.data.rotateWebhookSecret.secret;
    expect(second).not.toBe(first);
    const until = Date.parse(rotated.data.rotateWebhookSecret.endpoint.previousSecretExpiresAt);
    expect(Math.abs(until - Date.now() - 3600_000)).toBeLessThan(60_000);
    const row = await stored(endpoint.id);
    expect(signingSecrets(row)).toEqual([second, first]);
    expect(signingSecrets(row, new Date(until + 1000))).toEqual([second]);

    const third = (
      await t.gql(`mutation($id: ID!) { rotateWebhookSecret(id: $id, keepPreviousSeconds: 0) { secret } }`, { id: endpoint.id })
    ).data.rotateWebhookSecret.secret;
    expect(signingSecrets(await stored(endpoint.id))).toEqual([third]);

    for (const keep of [-1, 7 * 24 * 3600 + 1]) {
      const bad = await t.gql(`mutation($id: ID!, $k: Int) { rotateWebhookSecret(id: $id, keepPreviousSeconds: $k) { secret } }`, {
        id: endpoint.id,
        k: keep,
      });
      expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'keepPreviousSeconds' });
    }
    expect(signingSecrets(await stored(endpoint.id))).toEqual([third]);
    await t.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: endpoint.id });
  });

  it(`a project holds at most ${MAX_ENDPOINTS_PER_PROJECT} endpoints, also when created concurrently`, async () => {
    const results = await Promise.all(
      Array.from({ length: MAX_ENDPOINTS_PER_PROJECT + 5 }, (_, i) =>
        t.gql(CREATE, { input: { url: `https://example.com/${i}`, eventTypes: ['JOB_STATE_CHANGED'] } }),
      ),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(MAX_ENDPOINTS_PER_PROJECT);
    expect(results.filter((r) => r.errors?.[0]?.extensions?.code === 'CONFLICT')).toHaveLength(5);
    expect((await t.gql(`{ webhookEndpoints { id } }`)).data.webhookEndpoints).toHaveLength(MAX_ENDPOINTS_PER_PROJECT);
  });
});
