import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { TRIAGE_INPUT } from '../test/fixtures.ts';
import { jobExposure } from '../test/job-exposure.ts';
import { waitForJob } from '../test/scripted.ts';
import { ENCODINGS, encodeSecret, leaks } from '../test/secret-forms.ts';

// A local OpenAI-compatible endpoint (no provider is reachable here) that quotes the key it was
// sent, in every encoding the redaction covers, the way real gateways and proxies sometimes do.
const KEY = 'sk-live-Ab3+/q"Z\\9=xY7pL2mN8wQ';
const quoted = ENCODINGS.map((enc, i) => `${enc}: ${encodeSecret(KEY, enc, i)}`).join('; ');
type Mode = 'refuse-401' | 'overloaded-503' | 'not-json' | 'echo-key';
let mode: Mode = 'refuse-401';
const logLines: string[] = [];
const TERMINAL = ['SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELLED', 'BUDGET_EXCEEDED'];
let model: http.Server;
let t: TestServer;
let viewer: string;

beforeAll(async () => {
  model = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const sent = req.headers.authorization ?? '';
      const body = JSON.parse(raw);
      if (mode === 'refuse-401' || mode === 'overloaded-503') {
        const status = mode === 'refuse-401' ? 401 : 503;
        res.writeHead(status, { 'content-type': 'application/json' });
        return res.end(
          JSON.stringify({ error: { message: `Incorrect API key provided: ${sent}. Seen as ${quoted}`, type: 'invalid_request_error' } }),
        );
      }
      if (mode === 'not-json')
        return res.writeHead(200, { 'content-type': 'text/html' }).end(`<html>proxy error for ${sent} (${quoted})</html>`);
      // A model that repeats the key it was somehow given, in its notes and in its JSON answer.
      const content = body.response_format
        ? JSON.stringify({
            severity: 'high',
            category: 'auth',
            summary: `uses ${KEY}`,
            likelyCause: quoted,
            reproductionSteps: ['x'],
            suggestedOwner: 'web',
            labels: [],
          })
        : `Notes: the key is ${quoted}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          choices: [{ message: { role: 'assistant', content } }],
          model: body.model,
          usage: { prompt_tokens: 10, completion_tokens: 10 },
        }),
      );
    });
  });
  await new Promise<void>((r) => model.listen(0, '127.0.0.1', () => r()));
  const port = (model.address() as AddressInfo).port;
  t = await startTestServer({
    role: 'all',
    env: { AUTODEV_MODEL_PROVIDER: 'openai', AUTODEV_MODEL_BASE_URL: `http://127.0.0.1:${port}/v1`, AUTODEV_MODEL_API_KEY: KEY },
    logLines,
  });
  viewer = await t.token('VIEWER');
});
afterAll(async () => {
  await t?.close();
  await new Promise((r) => model?.close(r));
});

async function runTriage(m: Mode) {
  mode = m;
  const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
    input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT },
  });
  const id = created.data.createJob.id as string;
  return { id, job: await waitForJob(t, id, TERMINAL, 60_000) };
}

async function whereTheKeyIs(jobId: string): Promise<string[]> {
  const places: string[] = [];
  for (const [place, text] of Object.entries(await jobExposure(t, jobId, viewer)))
    for (const form of leaks(text, KEY)) places.push(`${place}: ${form}`);
  for (const form of leaks(logLines.join(''), KEY)) places.push(`log lines: ${form}`);
  return places;
}

describe('a model provider that quotes the API key in what it answers', () => {
  it('401: the tenant reads "answered 401 Unauthorized" with a code; the key (in any encoding) is nowhere; the body reaches only the operator log, redacted', async () => {
    const { id, job } = await runTriage('refuse-401');
    expect(job.state).toBe('FAILED');
    expect(job.attempts).toHaveLength(1); // an authentication failure is not retried
    expect(job.lastError).toBe('MODEL_AUTH_FAILED: Task reproduce: The model provider answered 401 Unauthorized.');
    expect(job.attempts[0].errorCode).toBe('MODEL_AUTH_FAILED');
    expect(await whereTheKeyIs(id)).toEqual([]);
    const finished = logLines.map((l) => JSON.parse(l)).find((l) => l.msg === 'attempt finished' && l.jobId === id);
    expect(finished.runnerErrorDetail).toContain('Incorrect API key provided: Bearer [redacted]');
    expect(finished.errorCode).toBe('MODEL_AUTH_FAILED');
  });

  it('503: retried as MODEL_UNAVAILABLE, with no provider text in any attempt', async () => {
    const { id, job } = await runTriage('overloaded-503');
    expect(job.state).toBe('FAILED');
    expect(job.attempts.map((a: any) => a.errorCode)).toEqual(['MODEL_UNAVAILABLE', 'MODEL_UNAVAILABLE', 'MODEL_UNAVAILABLE']);
    expect(job.lastError).toBe('MODEL_UNAVAILABLE: Task reproduce: The model provider answered 503 Service Unavailable.');
    expect(await whereTheKeyIs(id)).toEqual([]);
  });

  it('a body that is not JSON (a proxy page quoting the key): MODEL_BAD_RESPONSE, and the parser’s quote of the body stays out of tenant text', async () => {
    const { id, job } = await runTriage('not-json');
    expect(job.lastError).toBe('MODEL_BAD_RESPONSE: Task reproduce: The model provider answered with something that is not JSON.');
    expect(JSON.stringify(job)).not.toContain('proxy error');
    expect(await whereTheKeyIs(id)).toEqual([]);
  });

  it('a completion that repeats the key: stored redacted everywhere, and the attempt fails no-secrets', async () => {
    const { id, job } = await runTriage('echo-key');
    expect(await whereTheKeyIs(id)).toEqual([]);
    expect(job.attempts[0].errorCode).toBe('GUARDRAIL_VIOLATION');
    const noSecrets = job.attempts[0].guardrailResults.find((g: any) => g.name === 'no-secrets');
    expect(noSecrets.details.map((d: any) => d.path)).toEqual(
      expect.arrayContaining(['the output of task reproduce', 'summary', 'likelyCause']),
    );
    expect(job.events.find((e: any) => e.type === 'TASK_COMPLETED').data.output).toMatch(
      /^Notes: the key is plain: \[redacted\]; url: \[redacted\];/,
    );
  });
});
