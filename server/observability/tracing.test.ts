import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../test/harness.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { waitForJob } from '../test/scripted.ts';

interface OtlpSpan {
  name: string;
  spanId: string;
  parentSpanId?: string;
  attributes: { key: string; value: Record<string, unknown> }[];
}

describe('OpenTelemetry tracing over OTLP/HTTP', () => {
  it('exports a span per GraphQL operation, and per attempt with child spans per crew task and model call', async () => {
    const spans: OtlpSpan[] = [];
    const collector = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        expect(req.url).toBe('/v1/traces');
        const body = JSON.parse(raw);
        for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans.push(...ss.spans);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
    const t = await startTestServer({
      role: 'all',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}` },
    });
    try {
      const created = await t.gql(CREATE_JOB.replace('mutation Create', 'mutation LaunchTriage'), {
        input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT },
      });
      await waitForJob(t, created.data.createJob.id, ['SUCCEEDED']);
    } finally {
      await t.close(); // flushes the exporter
      await new Promise((r) => collector.close(r));
    }
    const byName = (n: string) => spans.filter((s) => s.name === n);
    expect(byName('graphql.mutation LaunchTriage')).toHaveLength(1);
    const [attempt] = byName('attempt');
    expect(attempt).toBeTruthy();
    const tasks = spans.filter((s) => s.name.startsWith('task '));
    expect(tasks.map((s) => s.name).sort()).toEqual(['task classify', 'task reproduce']);
    for (const task of tasks) expect(task.parentSpanId).toBe(attempt.spanId);
    const calls = spans.filter((s) => s.name.startsWith('model '));
    expect(calls.map((s) => s.name).sort()).toEqual(['model claude-haiku-4-5', 'model gpt-4o-mini']);
    for (const call of calls) expect(tasks.map((s) => s.spanId)).toContain(call.parentSpanId);
    expect(attempt.attributes.find((a) => a.key === 'autodev.attempt.outcome')?.value).toEqual({ stringValue: 'succeeded' });
  });
});
