// 6. One tool round-trip inside the runner: the agent loop (AI SDK step, argument validation,
//    tool_call/tool_result events written as JSON lines, the tool, the result back to the model)
//    with an in-process model that answers at once, versus calling the same tool directly.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LanguageModelV3, LanguageModelV3CallOptions, LanguageModelV3GenerateResult } from '@ai-sdk/provider';
import { runAgentTask } from '../server/runner/agents/run-agent-task.ts';
import { buildTools } from '../server/runner/tools/index.ts';
import { percentile, printTable } from './lib.ts';

const CALLS = Number(process.env.BENCH_LOOP_CALLS ?? 50);
const RUNS = Number(process.env.BENCH_LOOP_RUNS ?? 10);

/** Calls read_file `calls` times, one call per step, then answers: no network, no thinking time. */
function readingModel(calls: number): LanguageModelV3 {
  const usage = {
    inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: 1, text: 1, reasoning: undefined },
  };
  const generate = (o: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> => {
    const done = o.prompt.filter((m) => m.role === 'tool').length;
    const call = done < calls && o.toolChoice?.type !== 'none';
    return Promise.resolve<LanguageModelV3GenerateResult>({
      content: call
        ? [{ type: 'tool-call', toolCallId: `c${done}`, toolName: 'read_file', input: '{"path":"file.txt"}' }]
        : [{ type: 'text', text: 'done' }],
      finishReason: { unified: call ? 'tool-calls' : 'stop', raw: undefined },
      usage,
      warnings: [],
    });
  };
  return {
    specificationVersion: 'v3',
    provider: 'bench',
    modelId: 'bench',
    supportedUrls: {},
    doGenerate: generate,
    doStream: () => Promise.reject(new Error('not streamed')),
  };
}

export async function benchAgentLoop() {
  const ws = mkdtempSync(path.join(tmpdir(), 'autodev-bench-loop-'));
  try {
    writeFileSync(path.join(ws, 'file.txt'), 'line\n'.repeat(2000));
    const tools = buildTools(['read_file']);
    const toolContext = { workspaceDir: ws, sandbox: { timeoutMs: 30_000, maxOutputBytes: 1 << 20, network: false } };
    let bytes = 0;
    const perCall: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      const outcome = await runAgentTask({
        agent: { id: 'dev', role: 'r', goal: 'g', backstory: 'b', model: 'bench', tools: ['read_file'] },
        task: { id: 't', description: 'Read the file.', expectedOutput: 'done', maxSteps: CALLS + 1 },
        input: {},
        context: [],
        tools,
        toolContext,
        model: readingModel(CALLS),
        // As the runner writes them: one JSON line each.
        emit: (e) => void (bytes += JSON.stringify(e).length + 1),
      });
      if (outcome.status !== 'completed') throw new Error(`the loop ended ${outcome.status}`);
      perCall.push((performance.now() - t0) / CALLS);
    }
    const direct: number[] = [];
    for (let i = 0; i < RUNS * CALLS; i++) {
      const t0 = performance.now();
      await tools[0].execute({ path: 'file.txt' }, toolContext);
      direct.push(performance.now() - t0);
    }
    printTable(
      `A tool round-trip inside the runner (${RUNS} tasks × ${CALLS} read_file calls; ${Math.round(bytes / RUNS / 1024)} KiB of events per task)`,
      [['read_file through the agent loop vs called directly, p50 per call', percentile(perCall, 50), percentile(direct, 50), 'ms']],
    );
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchAgentLoop();
