import type { RunnerEvent } from '../runner-protocol/parse-runner-output.ts';
import { answersOf, asksForInput, questionOf, unansweredQuestion } from './human-input.ts';
import { buildTaskMessages } from './prompt.ts';
import { ProviderError, type ModelProvider, type RunnerSpec } from './spec.ts';

type Emit = (event: RunnerEvent) => void;
type Body<T> = T extends unknown ? Omit<T, 'v'> : never;

const MAX_TASK_OUTPUT = 65_536;

const CONTENT_TYPES: Record<string, string> = {
  ts: 'text/typescript',
  tsx: 'text/typescript',
  js: 'text/javascript',
  mjs: 'text/javascript',
  py: 'text/x-python',
  go: 'text/x-go',
  md: 'text/markdown',
  json: 'application/json',
  yml: 'text/yaml',
  yaml: 'text/yaml',
};
const contentType = (p: string) => CONTENT_TYPES[p.split('.').pop()?.toLowerCase() ?? ''] ?? 'text/plain';

function parseJson(text: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  return JSON.parse((fenced ? fenced[1] : text).trim());
}

/**
 * Runs a crew's tasks in order (CrewAI's sequential process), reporting through the runner
 * protocol: task_started, usage, task_completed per task; the files of the final output as
 * artifacts; then result — or one error event. Tasks in `spec.resume` are not run again (their
 * outputs are reused); after a task that asks a person, input_requested ends the run ('paused').
 */
export async function runCrew(spec: RunnerSpec, provider: ModelProvider, emitEvent: Emit): Promise<'result' | 'error' | 'paused'> {
  const emit = (e: Body<RunnerEvent>) => emitEvent({ v: 1, ...e });
  const agents = new Map(spec.crew.agents.map((a) => [a.id, a]));
  const outputs = new Map<string, string>((spec.resume?.completed ?? []).map((c) => [c.task, c.output]));
  const answers = answersOf(spec);
  const waiting = unansweredQuestion(spec);
  if (waiting) {
    emit({ type: 'input_requested', task: waiting.task.id, question: waiting.question });
    return 'paused';
  }
  const tasks = spec.crew.tasks;
  for (const [index, task] of tasks.entries()) {
    if (outputs.has(task.id)) continue; // completed by an earlier attempt (its checkpoint)
    const agent = agents.get(task.agent);
    if (!agent) {
      emit({ type: 'error', code: 'INVALID_SPEC', message: `Task ${task.id} names unknown agent ${task.agent}.`, retryable: false });
      return 'error';
    }
    const isLast = index === tasks.length - 1;
    emit({ type: 'task_started', task: task.id, agent: agent.id, index, total: tasks.length });
    emit({ type: 'log', level: 'info', message: `${agent.role} is working on ${task.id}`, agent: agent.id, task: task.id });
    const model = spec.provider.model ?? agent.model;
    let completion;
    try {
      completion = await provider.complete({
        model,
        messages: buildTaskMessages(spec, task, agent, outputs, isLast, answers),
        json: isLast,
        spec,
        taskId: task.id,
      });
    } catch (err) {
      // Only a ProviderError's message is written for tenants; anything else is described
      // generically and its text goes to the operator-only `detail`.
      const known = err instanceof ProviderError;
      const detail = known ? err.detail : String((err as Error)?.stack ?? err);
      emit({
        type: 'error',
        code: known ? err.code : 'MODEL_ERROR',
        message: `Task ${task.id}: ${known ? err.message : 'the model call failed unexpectedly.'}`.slice(0, 16_000),
        retryable: known ? err.retryable : true,
        ...(detail ? { detail: detail.slice(0, 16_000) } : {}),
      });
      return 'error';
    }
    emit({
      type: 'usage',
      model: completion.model,
      inputTokens: completion.inputTokens,
      outputTokens: completion.outputTokens,
      task: task.id,
    });
    emit({ type: 'task_completed', task: task.id, agent: agent.id, output: completion.text.slice(0, MAX_TASK_OUTPUT) });
    outputs.set(task.id, completion.text);
    if (asksForInput(task)) {
      emit({ type: 'input_requested', task: task.id, question: questionOf(task, spec.input) });
      return 'paused';
    }
  }

  let output: unknown;
  try {
    output = parseJson(outputs.get(tasks[tasks.length - 1].id) ?? '');
  } catch {
    emit({ type: 'error', code: 'INVALID_MODEL_OUTPUT', message: 'The last task did not answer with JSON.', retryable: true });
    return 'error';
  }
  const files = (output as { files?: unknown })?.files;
  if (Array.isArray(files)) {
    for (const f of files as unknown[]) {
      if (isTextFile(f)) {
        emit({
          type: 'artifact',
          path: f.path.replace(/^\/+/, ''),
          contentType: contentType(f.path),
          encoding: 'utf8',
          content: f.content,
        });
      }
    }
  }
  emit({ type: 'result', output });
  return 'result';
}

/** A `{ path, content }` file of the last task's JSON answer (other entries are not files). */
function isTextFile(f: unknown): f is { path: string; content: string } {
  return (
    typeof f === 'object' && f !== null && 'path' in f && typeof f.path === 'string' && 'content' in f && typeof f.content === 'string'
  );
}
