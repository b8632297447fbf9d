// Token streaming end to end: a local server speaking OpenAI's protocol streams a task's answer as
// server-sent events (7 characters a chunk, 10 ms apart); the reference runner (agent runtime,
// AUTODEV_MODEL_STREAM) coalesces the deltas; the worker publishes them without storing them; 100
// jobOutput subscribers over graphql-ws get them live, then the stored complete message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startTestServer, type TestServer } from '../test/harness.ts';
import { startOpenAiMockServer, type OpenAiMockServer } from '../test/openai-mock-server.ts';
import { oneWriterTemplate } from '../test/one-writer-template.ts';
import { upsertTemplate, waitForJob } from '../test/scripted.ts';

let t: TestServer;
let model: OpenAiMockServer;
const ANSWER = Array.from({ length: 60 }, (_, i) => `Sentence ${i} of the answer.`).join(' '); // ~1,600 characters, ~230 chunks
// An answer that leaks a key: 103 characters of it, so it spans several deltas (~70 characters each).
const KEY_BODY = 'A1b2C3d4'.repeat(12) + 'xyz';
const LEAKING_ANSWER = `${ANSWER.slice(0, 500)} The key is sk-${KEY_BODY} and ${ANSWER.slice(0, 500)}`;

beforeAll(async () => {
  model = await startOpenAiMockServer((req) => ({
    text: JSON.stringify(req.body.messages).includes('Leak the key') ? LEAKING_ANSWER : ANSWER,
    delayMs: 2500,
    chunkDelayMs: 10,
    usage: { promptTokens: 500, completionTokens: 400 },
  }));
  t = await startTestServer({
    role: 'all',
    env: {
      AUTODEV_MODEL_PROVIDER: 'openai',
      AUTODEV_MODEL_BASE_URL: model.baseUrl,
      AUTODEV_MODEL_STREAM: '1',
      AUTODEV_VALIDATION_TIMEOUT_MS: '30000',
    },
  });
  await upsertTemplate(
    t.gql,
    oneWriterTemplate({
      slug: 'streamed-answer',
      name: 'Streamed answer',
      description: 'One task whose answer is streamed',
      inputProperties: { n: { type: 'integer' } },
    }),
  );
  await upsertTemplate(
    t.gql,
    oneWriterTemplate({
      slug: 'streamed-leak',
      name: 'Streamed leak',
      description: 'One task whose streamed answer contains a key',
      task: 'Leak the key',
      backstory: 'Careless.',
      maxAttempts: 1,
    }),
  );
}, 60_000);
afterAll(async () => {
  await t?.close();
  await model?.close();
});

const OUTPUT = /* GraphQL */ `
  subscription ($jobId: ID!, $afterSeq: Int) {
    jobOutput(jobId: $jobId, afterSeq: $afterSeq) {
      kind
      seq
      task
      step
      offset
      text
      state
    }
  }
`;

interface Item {
  kind: 'DELTA' | 'MESSAGE' | 'END';
  seq: number | null;
  task: string | null;
  step: number | null;
  offset: number | null;
  text: string;
  state: string | null;
}

describe('jobOutput', () => {
  it('100 subscribers get the deltas live, in order, none lost, adding up to the stored message; deltas are not stored', async () => {
    const created = await t.gql(`mutation { createJob(input: { templateSlug: "streamed-answer", input: { n: 1 } }) { id } }`);
    const jobId = created.data.createJob.id as string;
    // 10 sockets × 10 subscriptions (the per-address WebSocket cap is 100 sockets).
    const sockets = Array.from({ length: 10 }, () => t.ws());
    const arrivals: number[][] = [];
    const subs = Array.from({ length: 100 }, (_, i) => {
      const times: number[] = [];
      arrivals.push(times);
      const s = collect<{ jobOutput: Item }>(sockets[i % 10], OUTPUT, { jobId, afterSeq: 0 }, () => false, 90_000);
      const push = s.items.push.bind(s.items);
      s.items.push = (...x) => (times.push(Date.now()), push(...x));
      return s;
    });
    await Promise.all(subs.map((s) => s.ready));
    const results = await Promise.all(subs.map((s) => s.done));
    const job = await waitForJob(t, jobId, ['SUCCEEDED', 'FAILED']);
    expect(job.state).toBe('SUCCEEDED');

    const stored = job.events.filter((e: any) => e.type === 'MESSAGE');
    expect(stored).toHaveLength(1);
    expect(stored[0].message).toBe(ANSWER);
    // No event per delta: the job's events are its states, task, usage, message, workspace and result logs.
    expect(job.events.length).toBeLessThan(20);

    let minDeltas = Infinity;
    for (const [i, items] of results.entries()) {
      const output = items.map((x) => x.jobOutput);
      const deltas = output.filter((x) => x.kind === 'DELTA');
      const message = output.find((x) => x.kind === 'MESSAGE')!;
      expect(output.at(-1)?.kind, `subscriber ${i}`).toBe('END');
      expect(output.indexOf(message), `subscriber ${i}`).toBeGreaterThan(output.lastIndexOf(deltas.at(-1)!));
      // In order, none lost, none repeated: each delta starts where the one before ended.
      let at = 0;
      for (const d of deltas) {
        expect(d.offset, `subscriber ${i}`).toBe(at);
        at += d.text.length;
      }
      expect(deltas.map((d) => d.text).join(''), `subscriber ${i}`).toBe(message.text);
      expect(message.seq).toBe(stored[0].seq);
      minDeltas = Math.min(minDeltas, deltas.length);
    }
    // ~2.3 s of writing, coalesced to at most ~10 deltas a second: more than a few, far fewer than the 230 chunks.
    expect(minDeltas).toBeGreaterThanOrEqual(5);
    const deltaCount = results[0].filter((x) => x.jobOutput.kind === 'DELTA').length;
    const span = (arrivals[0][deltaCount - 1] - arrivals[0][0]) / 1000;
    expect(deltaCount).toBeLessThanOrEqual(Math.ceil(span * 10) + 3);
    console.log(
      `jobOutput: 100 subscribers × ${deltaCount} deltas over ${span.toFixed(2)} s (from ${Math.ceil(ANSWER.length / 7)} provider chunks), 0 lost, 0 reordered`,
    );
  }, 120_000);

  it('a client that subscribes mid-step gets the rest live, then the complete message', async () => {
    const created = await t.gql(`mutation { createJob(input: { templateSlug: "streamed-answer", input: { n: 2 } }) { id } }`);
    const jobId = created.data.createJob.id as string;
    // Wait until the text is being written (the first request is answered after 2.5 s, then ~2.3 s of chunks).
    await expect.poll(() => model.requests.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 3200));
    const { data } = await t.gql(`query($id: ID!) { job(id: $id) { state events(last: 1) { edges { node { seq } } } } }`, { id: jobId });
    expect(data.job.state).toBe('RUNNING');
    const late = collect<{ jobOutput: Item }>(t.ws(), OUTPUT, { jobId, afterSeq: data.job.events.edges[0].node.seq }, () => false, 60_000);
    const output = (await late.done).map((x) => x.jobOutput);
    const deltas = output.filter((x) => x.kind === 'DELTA');
    const message = output.find((x) => x.kind === 'MESSAGE')!;
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas[0].offset).toBeGreaterThan(0); // it joined mid-step
    expect(message.text).toBe(ANSWER);
    expect(ANSWER.endsWith(deltas.map((d) => d.text).join(''))).toBe(true);
  }, 120_000);

  it('never shows a subscriber any part of a secret that the model wrote across several deltas', async () => {
    const created = await t.gql(`mutation { createJob(input: { templateSlug: "streamed-leak", input: {} }) { id } }`);
    const jobId = created.data.createJob.id as string;
    const sub = collect<{ jobOutput: Item }>(t.ws(), OUTPUT, { jobId, afterSeq: 0 }, () => false, 90_000);
    const output = (await sub.done).map((x) => x.jobOutput);
    const deltas = output.filter((x) => x.kind === 'DELTA');
    const live = deltas.map((d) => d.text).join('');
    expect(deltas.length).toBeGreaterThan(2);
    expect(live).toContain('The key is [redacted] and');
    for (let i = 0; i + 8 <= KEY_BODY.length; i++) expect(live).not.toContain(KEY_BODY.slice(i, i + 8));
    // The stored message is redacted the same way, and the leak fails the job's no-secrets guardrail.
    const job = await waitForJob(t, jobId, ['SUCCEEDED', 'FAILED']);
    expect(job.state).toBe('FAILED');
    const message = job.events.find((e: any) => e.type === 'MESSAGE');
    expect(message.message).toBe(live);
  }, 120_000);
});
