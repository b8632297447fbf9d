// GraphQL parameters sent as text: a GET's query string and a form-encoded POST. Their `variables`
// and `extensions` are JSON inside a URL encoding; before the fix any that was not JSON
// (`variables={`) answered INTERNAL_SERVER_ERROR and logged an unexpected error.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ role: 'api' });
});
afterAll(async () => {
  await t?.close();
});

const QUERY = 'query($n: Int) { jobs(first: $n) { edges { node { id } } } }';

async function send(via: 'GET' | 'form POST' | 'GET over SSE', param: 'variables' | 'extensions', value: string) {
  const params = new URLSearchParams({ query: QUERY, [param]: value });
  const headers: Record<string, string> = {
    authorization: `Bearer ${t.adminToken}`,
    accept: via === 'GET over SSE' ? 'text/event-stream' : 'application/graphql-response+json',
  };
  const res =
    via === 'form POST'
      ? await fetch(`${t.url}/graphql`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
          body: params.toString(),
        })
      : await fetch(`${t.url}/graphql?${params}`, { headers });
  const text = await res.text();
  const json = via === 'GET over SSE' ? JSON.parse(/^data: (\{.*\})$/m.exec(text)![1]) : JSON.parse(text);
  return { status: res.status, codes: ((json.errors ?? []) as { extensions?: { code?: string } }[]).map((e) => e.extensions?.code), json };
}

describe('variables and extensions sent as text', () => {
  it('that are not JSON get BAD_REQUEST naming the parameter, never INTERNAL_SERVER_ERROR or a 5xx (GET, form POST, SSE)', async () => {
    const seen: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET' as const, 'form POST' as const, 'GET over SSE' as const),
        fc.constantFrom('variables' as const, 'extensions' as const),
        fc.oneof(
          fc.constantFrom('{', '{"n":', 'nul', '{x}', "{'n':1}", '[', '{"n":1}}', '\u0000', 'NaN', '{"n":1,}'),
          fc.string({ minLength: 1, maxLength: 40 }),
        ),
        async (via, param, value) => {
          let valid = true;
          try {
            JSON.parse(value);
          } catch {
            valid = false;
          }
          const { status, codes } = await send(via, param, value);
          const key = `${status} ${codes.join()}`;
          seen[key] = (seen[key] ?? 0) + 1;
          expect(status, `${via} ${param}=${JSON.stringify(value)}`).toBeLessThan(500);
          expect(codes, `${via} ${param}=${JSON.stringify(value)}`).not.toContain('INTERNAL_SERVER_ERROR');
          if (!valid) {
            expect(codes, `${via} ${param}=${JSON.stringify(value)}`).toEqual(['BAD_REQUEST']);
            if (via !== 'GET over SSE') expect(status).toBe(400);
          }
        },
      ),
      { numRuns: 150, seed: 1127 },
    );
    console.log(`text parameters: 150 requests, ${JSON.stringify(seen)}`);
  }, 60_000);

  it('that are JSON work as before', async () => {
    for (const via of ['GET', 'form POST', 'GET over SSE'] as const) {
      const { status, json } = await send(via, 'variables', '{"n":2}');
      expect(status, via).toBe(200);
      expect(json.errors, via).toBeUndefined();
      expect(json.data.jobs.edges.length).toBeLessThanOrEqual(2);
    }
    const bad = await send('GET', 'variables', '{');
    expect(bad.json.errors[0].message).toContain('`variables` or `extensions` parameter is not valid JSON');
  });
});
