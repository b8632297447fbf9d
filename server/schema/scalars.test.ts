import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';

// The JSON and DateTime scalars (graphql-scalars) as a client sees them on the wire.
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

const CREATE_TOKEN = `mutation($input: ApiTokenInput!) { createApiToken(input: $input) { token { expiresAt createdAt } } }`;

describe('DateTime', () => {
  it('is written as an ISO-8601 UTC string with milliseconds and read back as the same instant', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const res = await t.gql(CREATE_TOKEN, { input: { name: 'dated', role: 'VIEWER', expiresAt } });
    expect(res.errors).toBeUndefined();
    expect(res.data.createApiToken.token.expiresAt).toBe(expiresAt);
    expect(res.data.createApiToken.token.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('refuses a value that is not an RFC 3339 date-time with BAD_USER_INPUT naming the variable', async () => {
    for (const expiresAt of ['next tuesday', '2030-01-01', 1_900_000_000_000]) {
      const res = await t.gql(CREATE_TOKEN, { input: { name: 'dated', role: 'VIEWER', expiresAt } });
      expect(res.errors?.[0].extensions?.code, String(expiresAt)).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0].message).toMatch(/\$input.*expiresAt.*DateTime/s);
    }
  });
});

describe('JSON', () => {
  it('takes any JSON value as a variable or as a literal with variables inside, and returns it as given', async () => {
    const fromVariable = await t.gql(`mutation($i: JSON!) { createJob(input: { templateSlug: "triage-bug", input: $i }) { input } }`, {
      i: { title: 'Crash', report: 'A report with "quotes", ünïcode and 1e3', extra: undefined },
    });
    expect(fromVariable.errors).toBeUndefined();
    expect(fromVariable.data.createJob.input).toEqual({ title: 'Crash', report: 'A report with "quotes", ünïcode and 1e3' });

    const fromLiteral = await t.gql(
      `mutation($r: String!) { createJob(input: { templateSlug: "triage-bug", input: { title: "Literal", report: $r } }) { input } }`,
      {
        r: 'from a variable',
      },
    );
    expect(fromLiteral.errors).toBeUndefined();
    expect(fromLiteral.data.createJob.input).toEqual({ title: 'Literal', report: 'from a variable' });
  });
});
