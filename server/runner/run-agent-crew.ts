// A crew on the agent runtime: the attempt's workspace (a clone of the job's repository), each task
// done by its agent in a tool-calling loop with the tools the template grants it, a checkpoint
// commit after each task, then the patch against the base commit and the template's checks run in
// the sandbox. Everything is reported through the runner protocol.
import path from 'node:path';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { RunnerEvent } from '../runner-protocol/parse-runner-output.ts';
import { runAgentTask, type AgentTaskOutcome } from './agents/run-agent-task.ts';
import { RunningCost } from './agents/report-usage.ts';
import type { TaskContext } from './agents/task-prompt.ts';
import { describeCheckFailure, runChecks } from './run-checks.ts';
import { sandboxAvailable, type SandboxAvailability } from './sandbox/sandbox-available.ts';
import type { RunnerSpec } from './spec.ts';
import { buildTools, COMMAND_TOOLS } from './tools/index.ts';
import { answersOf, asksForInput, questionOf, unansweredQuestion } from './human-input.ts';
import { restoreCheckpoint, taskCheckpoint } from './workspace/task-checkpoint.ts';
import { createTaskTextStream } from './text-stream.ts';
import { changedFileArtifacts } from './changed-files.ts';
import { cloneWorkspace } from './workspace/clone-workspace.ts';
import { pushResult } from './workspace/push-result.ts';
import { redactUrls } from './workspace/redact-url.ts';
import { diffAgainst } from './workspace/diff-against.ts';
import { localRepositoryProblem } from './workspace/local-repository.ts';
import { WorkspaceError } from './workspace/workspace-error.ts';

/** The runner's sink for events: returning 'stop' (or a promise of it) stops the crew, as EmitAgentEvent does a task. */
type Emit = (event: RunnerEvent) => unknown;
type Body<T> = T extends unknown ? Omit<T, 'v'> : never;

/** Limits of the commands an agent runs (run_command): never more than this per command. */
const COMMAND_TIMEOUT_MS = 300_000;
const COMMAND_OUTPUT_BYTES = 64 * 1024;
const MAX_TASK_OUTPUT = 65_536;
const MAX_FILES_IN_RESULT = 2000;
/** The patch's share of one event line (the engine's limit is 1 MiB per line). */
export const MAX_PATCH_EVENT_BYTES = 1024 * 1024 - 4096;

/** Whether a spec is for the agent runtime (workspace, tools or checks) rather than one chat completion per task. */
export function usesAgentRuntime(spec: RunnerSpec): boolean {
  return Boolean(spec.workspace) || (spec.checks?.length ?? 0) > 0 || spec.crew.agents.some((a) => (a.tools?.length ?? 0) > 0);
}

/** Whether the crew runs commands (run_command or checks), so it needs the sandbox. */
export function needsSandbox(spec: RunnerSpec): boolean {
  return (spec.checks?.length ?? 0) > 0 || spec.crew.agents.some((a) => a.tools?.some((t) => COMMAND_TOOLS.includes(t)));
}

export interface AgentCrewDeps {
  /** Where the workspace is cloned (an empty or missing directory). */
  workspaceDir: string;
  /** The AI SDK model for an agent's model name. */
  modelFor(name: string): LanguageModelV3;
  stream?: boolean;
  signal?: AbortSignal;
  /** Whether the sandbox works here (default: sandboxAvailable, which runs one sandboxed command). */
  sandboxProbe?: () => Promise<SandboxAvailability>;
  /** Where credential variables (workspace.credentialsEnv, push.credentialsEnv) are read; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export async function runAgentCrew(spec: RunnerSpec, deps: AgentCrewDeps, emitEvent: Emit): Promise<'result' | 'error' | 'paused'> {
  const emit = (e: Body<RunnerEvent>) => emitEvent({ v: 1, ...e });
  const fail = async (code: string, message: string, retryable: boolean, detail?: string) => {
    await emit({
      type: 'error',
      code,
      message: message.slice(0, 16_000),
      retryable,
      ...(detail ? { detail: detail.slice(0, 16_000) } : {}),
    });
    return 'error' as const;
  };

  // Commands never run unsandboxed: a crew that needs them is refused before anything runs.
  const isolation = spec.sandbox?.isolation ?? 'bubblewrap';
  const network = spec.sandbox?.network ?? false;
  if (needsSandbox(spec)) {
    const sandbox = await (deps.sandboxProbe ?? (() => sandboxAvailable(isolation)))();
    if (!sandbox.ok)
      return fail('SANDBOX_UNAVAILABLE', `This crew runs commands, and the sandbox is unavailable here: ${sandbox.reason}`, false);
  }

  const workspace = spec.workspace ?? {};
  for (const place of [workspace.repository, workspace.push?.remote]) {
    const problem = place && localRepositoryProblem(place, workspace.localRoots ?? []);
    if (problem) return fail('WORKSPACE_REFUSED', problem, false);
  }
  const pushTo = workspace.push && (workspace.push.remote ?? workspace.repository);
  if (workspace.push && !pushTo)
    return fail('WORKSPACE_REFUSED', "The template pushes the result back to the job's repository, and the job names none.", false);
  // A task that asked and got no answer yet (a worker lost before the pause): ask again, run nothing.
  const waiting = unansweredQuestion(spec);
  if (waiting) {
    await emit({ type: 'input_requested', task: waiting.task.id, question: waiting.question });
    return 'paused';
  }
  const dir = deps.workspaceDir;
  let baseCommit: string;
  try {
    baseCommit = await cloneWorkspace({
      repository: workspace.repository,
      ref: workspace.ref,
      dir,
      credentialsEnv: workspace.credentialsEnv,
      env: deps.env,
    });
    if (spec.resume) await restoreCheckpoint(dir, baseCommit, spec.resume);
  } catch (err) {
    if (err instanceof WorkspaceError) return fail(err.code, err.message, err.retryable);
    throw err;
  }
  await emit({ type: 'workspace', baseCommit });
  await emit({
    type: 'log',
    level: 'info',
    message: `Workspace ready at ${baseCommit.slice(0, 12)}${workspace.repository ? '' : ' (empty scratch repository)'}${spec.resume?.patch ? ", with the reused tasks' changes applied" : ''}`,
  });

  const agents = new Map(spec.crew.agents.map((a) => [a.id, a]));
  const outputs = new Map<string, string>((spec.resume?.completed ?? []).map((c) => [c.task, c.output]));
  const answers = answersOf(spec);
  /** The structured outputs of tasks that declare an output schema, by task id (reused tasks' too). */
  const structured: Record<string, unknown> = {};
  for (const c of spec.resume?.completed ?? []) {
    if (!spec.crew.tasks.find((t) => t.id === c.task)?.outputSchema) continue;
    try {
      structured[c.task] = JSON.parse(c.output);
    } catch {
      // a cut output: the task's text still reaches later tasks
    }
  }
  const roles = new Map(spec.crew.tasks.map((t) => [t.id, agents.get(t.agent)?.role ?? t.agent]));
  let stopped = false;
  const cost = new RunningCost(spec.budget);
  const emitAgentEvent = async (e: RunnerEvent) => {
    const verdict = await emitEvent(e);
    if (verdict === 'stop') stopped = true;
    return verdict;
  };
  const tasks = spec.crew.tasks;
  for (const [index, task] of tasks.entries()) {
    if (outputs.has(task.id)) continue; // completed by an earlier attempt (its checkpoint)
    const agent = agents.get(task.agent);
    if (!agent) return fail('INVALID_SPEC', `Task ${task.id} names unknown agent ${task.agent}.`, false);
    await emit({ type: 'task_started', task: task.id, agent: agent.id, index, total: tasks.length });
    const modelName = spec.provider.model ?? agent.model;
    let model: LanguageModelV3;
    try {
      model = deps.modelFor(modelName);
    } catch (err) {
      const e = err as Error & { code?: string };
      return fail(e.code ?? 'MODEL_ERROR', `Task ${task.id}: ${e.message}`, false);
    }
    const context: TaskContext[] = (task.context ?? [...outputs.keys()]).flatMap((id) =>
      outputs.has(id)
        ? [{ task: id, role: roles.get(id), output: outputs.get(id)!, ...(answers.has(id) ? { answer: answers.get(id)! } : {}) }]
        : [],
    );
    const grants = agent.tools ?? [];
    let outcome: AgentTaskOutcome;
    const text = createTaskTextStream(emitEvent, { task: task.id, agent: agent.id });
    try {
      outcome = await runAgentTask({
        agent: { ...agent, model: modelName, tools: grants },
        task: {
          id: task.id,
          description: task.description,
          expectedOutput: task.expectedOutput,
          maxSteps: task.maxSteps,
          outputSchema: task.outputSchema,
        },
        input: spec.input,
        context,
        feedback: spec.feedback,
        tools: buildTools(grants),
        toolContext: {
          workspaceDir: dir,
          sandbox: { timeoutMs: COMMAND_TIMEOUT_MS, maxOutputBytes: COMMAND_OUTPUT_BYTES, network, isolation },
        },
        model,
        emit: emitAgentEvent,
        signal: deps.signal,
        stream: deps.stream,
        cost,
        onTextDelta: text.delta,
        onStepEnd: text.endStep,
      });
      await text.close();
    } catch (err) {
      return fail('MODEL_ERROR', `Task ${task.id}: the agent loop failed unexpectedly.`, true, String((err as Error)?.stack ?? err));
    }
    if (outcome.status === 'stopped') return stopped ? 'error' : fail(outcome.code ?? 'STOPPED', outcome.message, false);
    if (outcome.status !== 'completed')
      return fail(outcome.code, outcome.message, outcome.retryable, 'detail' in outcome ? outcome.detail : undefined);
    // A structured output is what later tasks and the result see, as JSON.
    const answer = task.outputSchema ? JSON.stringify(outcome.output, null, 2) : outcome.text;
    if (task.outputSchema) structured[task.id] = outcome.output;
    // The checkpoint commit and its patch travel with task_completed: the engine stores them together.
    const saved = await taskCheckpoint(dir, baseCommit, `${task.id}: ${agent.role}`);
    await emit({ type: 'task_completed', task: task.id, agent: agent.id, output: answer.slice(0, MAX_TASK_OUTPUT), ...saved });
    outputs.set(task.id, answer);
    if (asksForInput(task)) {
      await emit({ type: 'input_requested', task: task.id, question: questionOf(task, spec.input) });
      return 'paused';
    }
  }

  // The patch is the result: emitted before the checks, so a failed attempt still shows what it changed.
  const diff = await diffAgainst(dir, baseCommit);
  if (diff.patch.length > 0) {
    const utf8 = diff.patch.toString('utf8');
    const text = Buffer.from(utf8, 'utf8').equals(diff.patch);
    const content = text ? utf8 : diff.patch.toString('base64');
    // One event is one stdout line, and the engine refuses lines over 1 MiB (EVENT_TOO_LARGE, the
    // whole attempt lost): a larger patch is reported, not sent.
    if (Buffer.byteLength(JSON.stringify(content)) <= MAX_PATCH_EVENT_BYTES) {
      await emit({ type: 'artifact', path: 'changes.patch', contentType: 'text/x-diff', encoding: text ? 'utf8' : 'base64', content });
    } else {
      await emit({
        type: 'log',
        level: 'warn',
        message: `changes.patch is ${diff.patch.length} bytes, over the ${MAX_PATCH_EVENT_BYTES} bytes one runner event may carry: it is not stored (the diffstat below is).`,
      });
    }
  }
  // The changed files whole, beside the patch, within the room the job has left (one kept for the patch).
  const { artifacts, skipped } = await changedFileArtifacts(dir, diff.files, (spec.artifactRoom ?? Infinity) - 1);
  for (const a of artifacts) await emit(a);
  if (skipped.length) {
    const list = skipped
      .slice(0, 50)
      .map((s) => `${s.path} (${s.why})`)
      .join(', ');
    await emit({
      type: 'log',
      level: 'info',
      message:
        `Changed files not stored apart (they are in changes.patch): ${list}${skipped.length > 50 ? ` and ${skipped.length - 50} more` : ''}.`.slice(
          0,
          16_000,
        ),
    });
  }
  await emit({
    type: 'log',
    level: 'info',
    message: diff.patch.length ? `Changes against ${baseCommit.slice(0, 12)}:\n${diff.diffstat}`.slice(0, 16_000) : 'No changes.',
  });

  const checks = await runChecks(spec.checks ?? [], dir, { network, isolation, signal: deps.signal });
  for (const c of checks) await emit(c);
  const failed = checks.filter((c) => !c.passed);
  if (failed.length) return fail('CHECK_FAILED', failed.map((c) => `Check "${c.name}" ${describeCheckFailure(c)}`).join('\n\n'), true);

  // Checks passed: the result goes to the branch the template names. HEAD is the last task's
  // checkpoint, which the patch describes (what the checks wrote afterwards is not part of it).
  let pushed: { remote: string; branch: string; commit: string } | undefined;
  if (workspace.push && pushTo) {
    try {
      const { commit } = await pushResult({
        dir,
        remote: pushTo,
        branch: workspace.push.branch,
        credentialsEnv: workspace.push.credentialsEnv,
        env: deps.env,
      });
      pushed = { remote: redactUrls(pushTo), branch: workspace.push.branch, commit };
    } catch (err) {
      if (err instanceof WorkspaceError) return fail(err.code, err.message, err.retryable);
      throw err;
    }
    await emit({
      type: 'log',
      level: 'info',
      message: `Pushed ${pushed.commit.slice(0, 12)} to branch ${pushed.branch} of ${pushed.remote}`,
    });
  }

  const last = tasks[tasks.length - 1];
  const lastAnswer = structured[last.id] as { summary?: unknown } | undefined;
  await emit({
    type: 'result',
    output: {
      // A structured last answer with a `summary` gives it; otherwise the last task's answer as written.
      summary: (typeof lastAnswer?.summary === 'string' ? lastAnswer.summary : (outputs.get(last.id) ?? '')).slice(0, MAX_TASK_OUTPUT),
      baseCommit,
      // Bounded, so the result stays one event line whatever the crew changed.
      diffstat: diff.diffstat.length > MAX_TASK_OUTPUT ? diff.diffstat.slice(-MAX_TASK_OUTPUT) : diff.diffstat,
      files: diff.files.slice(0, MAX_FILES_IN_RESULT),
      ...(diff.files.length > MAX_FILES_IN_RESULT ? { filesCut: diff.files.length - MAX_FILES_IN_RESULT } : {}),
      checks: checks.map((c) => ({ name: c.name, passed: c.passed, exitCode: c.exitCode, durationMs: c.durationMs })),
      ...(Object.keys(structured).length ? { taskOutputs: structured } : {}),
      ...(pushed ? { push: pushed } : {}),
    },
  });
  return 'result';
}

/** The attempt's workspace directory: beside spec.json in the runner's working directory. */
export const workspaceDirIn = (attemptDir: string) => path.join(attemptDir, 'workspace');
