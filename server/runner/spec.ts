import type { SpendingBound } from '../budgets/spending-bound.ts';
import type { TemplateDefinition } from '../../schemas/types/template-definition.ts';
import type { ProvidersConfig } from '../runner-protocol/model-providers.ts';
import type { Isolation } from './sandbox/run-sandboxed.ts';

// The crew's parts as the template defines them (types generated from schemas/template.schema.json).
export type CrewDef = TemplateDefinition['crew'];
export type AgentDef = CrewDef['agents'][number];
export type TaskDef = CrewDef['tasks'][number];
import type { ResumePoint } from '../runner-protocol/resume-point.ts';
/** A command run in the sandbox on the final workspace; a non-zero exit fails the attempt (retryably). */
export type CheckDef = NonNullable<TemplateDefinition['checks']>[number];

/** Where the attempt's code comes from, resolved by the engine from the job input. */
export interface WorkspaceSpec {
  /** A URL (https, ssh, git, file://) or a local path; absent → an empty scratch repository. */
  repository?: string;
  ref?: string;
  /** Directories a local path or file:// URL must lie in (the operator's AUTODEV_REPOSITORY_ROOTS). */
  localRoots?: string[];
  /** NAME of the variable in the runner's environment holding a token for a private https remote. */
  credentialsEnv?: string;
  /** Push the result after the checks pass: the branch with {jobId} and {attempt} filled in. */
  push?: { remote?: string; branch: string; credentialsEnv?: string };
}

/** How commands (run_command, checks) run. */
export interface SandboxSpec {
  /** The host's network (the template's workspace.network: host, where the operator allows it). */
  network: boolean;
  /** `bubblewrap` (local and inline executors) or `pod` (Kubernetes: the runner pod is the sandbox). */
  isolation: Isolation;
}

/** What a runner receives for one attempt (the reference runner reads it from a JSON file). */
export interface RunnerSpec {
  jobId: string;
  attempt: number;
  template: { slug: string; version: number };
  crew: CrewDef;
  input: unknown;
  outputSchema: object;
  feedback: null | { comment?: string; previousOutput?: unknown; guardrailViolations?: { name: string; message: string }[] };
  provider: {
    kind: 'offline' | 'openai';
    baseUrl?: string;
    model?: string;
    delayMs?: number;
    /** Per model request (AUTODEV_MODEL_TIMEOUT_MS). */
    timeoutMs?: number;
    stream?: boolean;
    /** The operator's providers (AUTODEV_MODEL_PROVIDERS): base URLs and the NAMES of the key variables, never a key. */
    providers?: ProvidersConfig;
  };
  /** Set for crews on the agent runtime (a workspace, tools or checks); absent → one chat completion per task. */
  workspace?: WorkspaceSpec;
  checks?: CheckDef[];
  /** Default: no network, bubblewrap. */
  sandbox?: SandboxSpec;
  /** Artifacts the job may still store (AUTODEV_MAX_ARTIFACTS_PER_JOB less those it holds): bounds the changed files sent. */
  artifactRoom?: number;
  /** What this attempt may spend and the prices it is charged at: the runner stops itself before a request it could not pay (the engine's charge still decides). */
  budget?: SpendingBound;
  /** The tasks earlier attempts completed (checkpoints): not run again, their outputs (and answers) reused. */
  resume?: ResumePoint;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface Completion {
  text: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
}

/** A model provider: one chat completion per task. */
export interface ModelProvider {
  complete(req: { model: string; messages: ChatMessage[]; json: boolean; spec: RunnerSpec; taskId: string }): Promise<Completion>;
}

/**
 * A model call that failed. `message` is shown to tenants, so it is written by the provider code
 * (status and reason phrase), never copied from the endpoint; what the endpoint said goes in
 * `detail`, which only reaches the operator's log (redacted).
 */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly code: string = 'MODEL_ERROR',
    readonly detail?: string,
  ) {
    super(message);
  }
}
