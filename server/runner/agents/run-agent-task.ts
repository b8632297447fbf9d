// One task of a crew, done by one agent: a multi-step tool-calling loop over the AI SDK. Each model
// call is charged through a `usage` event before its tools run; each tool call is a `tool_call`
// and a `tool_result` event; the task ends with an answer (an object when it declares an output
// schema), at its step limit, when it is stopped (refused charge, abort) or on a model error.
import {
  APICallError,
  generateText,
  jsonSchema,
  NoObjectGeneratedError,
  NoOutputGeneratedError,
  Output,
  RetryError,
  stepCountIs,
  streamText,
  tool,
  ToolChoiceViolationError,
  wrapLanguageModel,
  type ModelMessage,
  type StepResult,
  type ToolSet,
} from 'ai';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { compile } from '../../json-schema/ajv.ts';
import { describeErrors } from '../../json-schema/describe-errors.ts';
import { toolCallEvent, toolResultEvent } from '../tools/tool-events.ts';
import { capText, MAX_MESSAGE_CHARS, type AgentEvent, type EmitAgentEvent } from './agent-events.ts';
import { reportUsage, type RunningCost } from './report-usage.ts';
import { describeProviderFailure, PROVIDER_DETAIL_MAX } from '../providers/describe-provider-failure.ts';
import { buildTaskPrompt, type AgentPersona, type AttemptFeedback, type TaskBrief, type TaskContext } from './task-prompt.ts';
import type { ToolContext, ToolDefinition } from './tool-definition.ts';

export const DEFAULT_MAX_STEPS = 20;
export const MAX_STEPS_LIMIT = 200;
/** A tool's output as the model reads it (the tool itself keeps its own, usually smaller, cap). */
export const MAX_TOOL_OUTPUT_TO_MODEL = 64 * 1024;

export interface RunAgentTaskOptions {
  agent: AgentPersona & { id?: string; model: string; tools: string[] };
  task: TaskBrief & { id?: string; maxSteps?: number };
  input: unknown;
  context: TaskContext[];
  feedback?: AttemptFeedback | null;
  /** The tool implementations the runner has; the agent is granted those its `tools` names. */
  tools: ToolDefinition[];
  toolContext: Omit<ToolContext, 'signal'>;
  /** From resolveModel: an AI SDK model (specification v3). */
  model: LanguageModelV3;
  emit: EmitAgentEvent;
  signal?: AbortSignal;
  /** Stream each model answer; same loop, same events. */
  stream?: boolean;
  /** The model's text as it arrives: streamed deltas, or each step's whole text when not streaming. */
  onTextDelta?: (delta: string) => void;
  /** A model step ended (after its text, before its tools run): the text stream closes the step's message. */
  onStepEnd?: () => void | Promise<void>;
  /** Retries of a failed model call (429, 5xx, network); default 2. */
  maxRetries?: number;
  /** The runner's running cost (shared by its tasks): no request is sent once it has reached the attempt's budget. */
  cost?: RunningCost;
}

interface Spent {
  /** Model calls made. */
  steps: number;
  inputTokens: number;
  outputTokens: number;
}

export type AgentTaskOutcome =
  | ({ status: 'completed'; text: string; output?: unknown; finalAnswerForced: boolean } & Spent)
  | ({ status: 'step_limit'; code: 'STEP_LIMIT_REACHED'; message: string; retryable: true; text: string } & Spent)
  | ({ status: 'stopped'; message: string; /** Set when the runner stopped itself at its budget. */ code?: 'BUDGET_EXCEEDED' } & Spent)
  | ({
      status: 'failed';
      code: 'MODEL_ERROR' | 'INVALID_MODEL_OUTPUT' | 'UNKNOWN_TOOL';
      message: string;
      retryable: boolean;
      /** What the model endpoint said, for the operator's log only (the runner protocol's error.detail): it may quote the key. */
      detail?: string;
    } & Spent);

class TaskStopped extends Error {}
/** Our own validation message, shown as it is (the SDK wraps it in two generic errors). */
class SchemaMismatch extends Error {}

/**
 * Rejects as soon as `signal` aborts, whatever `work` does (a tool that ignores its signal), with
 * the abort's own reason, as signal.throwIfAborted() would throw it (AbortSignal types it any).
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the abort's reason, see above
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the abort's reason, see above
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A validator for the AI SDK from a JSON Schema; `mismatch` starts the error the model is told. */
function schemaValidator(schema: Record<string, unknown>, mismatch: string) {
  const validate = compile(schema);
  return (value: unknown) => {
    if (validate(value)) return { success: true as const, value };
    const first = describeErrors(validate.errors)[0];
    return { success: false as const, error: new SchemaMismatch(`${mismatch}${first ? `: \`${first.field}\` ${first.message}` : ''}.`) };
  };
}

export async function runAgentTask(o: RunAgentTaskOptions): Promise<AgentTaskOutcome> {
  const label = o.task.id ? `Task ${o.task.id}` : 'The task';
  const maxSteps = Math.min(Math.max(1, o.task.maxSteps ?? DEFAULT_MAX_STEPS), MAX_STEPS_LIMIT);
  const spent: Spent = { steps: 0, inputTokens: 0, outputTokens: 0 };
  const where = { ...(o.task.id ? { task: o.task.id } : {}), ...(o.agent.id ? { agent: o.agent.id } : {}) };

  const available = new Map(o.tools.map((t) => [t.name, t]));
  const unknown = o.agent.tools.filter((name) => !available.has(name));
  if (unknown.length) {
    return {
      status: 'failed',
      code: 'UNKNOWN_TOOL',
      message: `${label}: the agent is granted tools that do not exist: ${unknown.join(', ')}.`,
      retryable: false,
      ...spent,
    };
  }

  // One signal for everything the loop starts: the caller's (cancel) or ours (a refused charge).
  const stopper = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, stopper.signal]) : stopper.signal;
  let stopMessage: string | undefined;
  let stopCode: 'BUDGET_EXCEEDED' | undefined;
  const stop = (message: string, code?: 'BUDGET_EXCEEDED') => {
    if (stopMessage === undefined) stopCode = code;
    stopMessage ??= message;
    stopper.abort(new TaskStopped(message));
  };
  const send = async (event: AgentEvent) => {
    let verdict: unknown;
    try {
      verdict = await o.emit(event);
    } catch (err) {
      stop(`${label} was stopped: reporting ${event.type} failed (${(err as Error).message}).`);
      return;
    }
    if (verdict === 'stop') stop(`${label} was stopped: its ${event.type} event was refused${event.type === 'usage' ? ' (budget)' : ''}.`);
  };

  const charge = async (u: { inputTokens: number; outputTokens: number }) => {
    spent.steps++;
    spent.inputTokens += u.inputTokens;
    spent.outputTokens += u.outputTokens;
    o.cost?.add(o.agent.model, u);
    await send({
      v: 1,
      type: 'usage',
      model: o.agent.model,
      inputTokens: u.inputTokens,
      outputTokens: u.outputTokens,
      ...(o.task.id ? { task: o.task.id } : {}),
    });
    if (signal.aborted) throw signal.reason;
  };
  // A request the budget could not pay is not sent: the same stop as a refused charge, decided here.
  const beforeRequest = () => {
    const refusal = o.cost?.refusal();
    if (refusal) stop(`${label} was stopped before its next model request: ${refusal}.`, 'BUDGET_EXCEEDED');
    if (signal.aborted) throw signal.reason;
  };

  const executed = new Set<string>();
  const tools: ToolSet = {};
  for (const name of o.agent.tools) {
    const def = available.get(name)!;
    tools[name] = tool({
      description: def.description,
      // Arguments are checked before the tool runs; a mismatch goes back to the model as an error.
      inputSchema: jsonSchema(def.inputSchema, {
        validate: schemaValidator(def.inputSchema, `The arguments for ${name} do not match its schema`),
      }),
      execute: async (args: unknown, { toolCallId }) => {
        executed.add(toolCallId);
        if (signal.aborted) throw signal.reason;
        await send(toolCallEvent({ callId: toolCallId, tool: name, args, ...where }));
        if (signal.aborted) throw signal.reason;
        const started = performance.now();
        let result: { ok: boolean; output: string };
        try {
          result = await untilAborted(def.execute(args, { ...o.toolContext, signal }), signal);
        } catch (err) {
          result = signal.aborted
            ? { ok: false, output: 'The task was stopped while the tool ran.' }
            : { ok: false, output: `The tool failed: ${(err as Error).message}` };
        }
        await send(
          toolResultEvent({
            callId: toolCallId,
            tool: name,
            ok: result.ok,
            output: result.output,
            durationMs: performance.now() - started,
            ...where,
          }),
        );
        if (signal.aborted) throw signal.reason;
        return result;
      },
      toModelOutput: ({ output }: { output: { ok: boolean; output: string } }) => ({
        type: output.ok ? ('text' as const) : ('error-text' as const),
        value: capText(output.output, MAX_TOOL_OUTPUT_TO_MODEL),
      }),
    });
  }

  const { system, prompt } = buildTaskPrompt({
    agent: o.agent,
    task: o.task,
    input: o.input,
    context: o.context,
    feedback: o.feedback,
    toolNames: o.agent.tools,
  });
  const settings = {
    model: wrapLanguageModel({ model: o.model, middleware: reportUsage(charge, beforeRequest) }),
    system,
    messages: [{ role: 'user', content: prompt }] as ModelMessage[],
    tools,
    stopWhen: stepCountIs(maxSteps),
    // The last step may not call tools: the model must answer with what it has (CrewAI's max_iter).
    prepareStep: ({ stepNumber }: { stepNumber: number }) =>
      stepNumber === maxSteps - 1 && o.agent.tools.length ? { toolChoice: 'none' as const } : {},
    output: o.task.outputSchema
      ? Output.object({
          schema: jsonSchema(o.task.outputSchema, {
            validate: schemaValidator(o.task.outputSchema, 'The answer does not match the output schema'),
          }),
        })
      : undefined,
    onStepFinish: async (step: StepResult<ToolSet>) => {
      // Not streamed, a step's text arrives whole: the same callback, one delta.
      if (!o.stream && step.text) o.onTextDelta?.(step.text);
      await o.onStepEnd?.();
      // Calls the SDK refused before any tool ran (arguments that are not JSON or do not match
      // the schema, a tool not granted) are logged too: the model was told, so is the log.
      for (const part of step.content) {
        if (part.type !== 'tool-error' || executed.has(part.toolCallId)) continue;
        await send(toolCallEvent({ callId: part.toolCallId, tool: part.toolName, args: part.input, ...where }));
        const output = part.error instanceof Error ? part.error.message : String(part.error);
        await send(toolResultEvent({ callId: part.toolCallId, tool: part.toolName, ok: false, output, durationMs: 0, ...where }));
      }
    },
    abortSignal: signal,
    maxRetries: o.maxRetries ?? 2,
    temperature: 0,
  };

  const stoppedOutcome = (): AgentTaskOutcome => ({
    status: 'stopped',
    message: stopMessage ?? `${label} was cancelled.`,
    ...(stopCode ? { code: stopCode } : {}),
    ...spent,
  });
  let steps: StepResult<ToolSet>[];
  let text: string;
  let output: unknown;
  try {
    if (o.stream) {
      // The first error the stream reported, boxed: the error itself may be any value.
      let streamError: { error: unknown } | undefined;
      const result = streamText({ ...settings, onError: ({ error }) => void (streamError ??= { error }) });
      for await (const part of result.fullStream) {
        if (part.type === 'text-delta') o.onTextDelta?.(part.text);
      }
      if (streamError) throw streamError.error;
      steps = await result.steps;
      text = steps.at(-1)?.text ?? '';
      if (o.task.outputSchema && steps.at(-1)?.finishReason !== 'tool-calls') output = await result.output;
    } else {
      const result = await generateText(settings);
      steps = result.steps;
      text = result.text;
      if (o.task.outputSchema && steps.at(-1)?.finishReason !== 'tool-calls') output = result.output;
    }
  } catch (err) {
    if (signal.aborted) return stoppedOutcome();
    // The last step forbids tools; a model that calls one anyway has used up its steps.
    if (ToolChoiceViolationError.isInstance(err)) return stepLimit(label, maxSteps, '', spent);
    if (NoObjectGeneratedError.isInstance(err) || NoOutputGeneratedError.isInstance(err)) {
      let root = err as Error;
      while (root.cause instanceof Error) root = root.cause;
      const why =
        root instanceof SchemaMismatch ? root.message : `The model's answer is not the JSON object the task asks for (${root.message}).`;
      return {
        status: 'failed',
        code: 'INVALID_MODEL_OUTPUT',
        message: capText(`${label}: ${why}`, MAX_MESSAGE_CHARS),
        retryable: true,
        ...spent,
      };
    }
    const failure = describeModelError(err);
    return {
      status: 'failed',
      code: 'MODEL_ERROR',
      message: capText(`${label}: ${failure.message}`, MAX_MESSAGE_CHARS),
      retryable: isRetryable(err),
      detail: failure.detail,
      ...spent,
    };
  }
  if (signal.aborted) return stoppedOutcome();

  if (steps.at(-1)?.finishReason === 'tool-calls') return stepLimit(label, maxSteps, text, spent);
  return {
    status: 'completed',
    text,
    ...(o.task.outputSchema ? { output } : {}),
    finalAnswerForced: steps.length >= maxSteps && o.agent.tools.length > 0,
    ...spent,
  };
}

function stepLimit(label: string, maxSteps: number, text: string, spent: Spent): AgentTaskOutcome {
  const message = `${label} used its ${maxSteps} steps and the model was still calling tools, so it gave no final answer.`;
  return { status: 'step_limit', code: 'STEP_LIMIT_REACHED', message, retryable: true, text, ...spent };
}

/** A thrown value's message, or the value itself as text when it has none (anything can be thrown). */
function messageOf(e: unknown): string {
  const message: unknown = e !== null && typeof e === 'object' && 'message' in e ? e.message : undefined;
  return String(message ?? e);
}

/** Words for tenants (status and reason phrase) and, apart, the endpoint's own text for the operator. */
function describeModelError(err: unknown): { message: string; detail: string } {
  const e = RetryError.isInstance(err) ? err.lastError : err;
  const detail = (APICallError.isInstance(e) ? (e.responseBody ?? e.message) : messageOf(e)).slice(0, PROVIDER_DETAIL_MAX);
  if (APICallError.isInstance(e)) {
    return { message: e.statusCode ? describeProviderFailure(e.statusCode).message : 'The model provider could not be reached.', detail };
  }
  // A request timeout (AbortSignal.timeout, AUTODEV_MODEL_TIMEOUT_MS) rejects with a TimeoutError.
  if ((e as Error)?.name === 'TimeoutError')
    return { message: 'The model did not answer within the time allowed for one request.', detail };
  return { message: 'The model call failed unexpectedly.', detail };
}

function isRetryable(err: unknown): boolean {
  const e = RetryError.isInstance(err) ? err.lastError : err;
  return APICallError.isInstance(e) ? e.isRetryable : true;
}
