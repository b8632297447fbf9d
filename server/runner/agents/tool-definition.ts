// The contract between the agent loop and the tools (server/runner/tools/ implements it). Kept here
// until the tools land on main; then this file re-exports theirs.

/** Where and how a tool runs: the attempt's workspace and the sandbox limits for commands. */
export interface ToolContext {
  workspaceDir: string;
  sandbox: { timeoutMs: number; maxOutputBytes: number; network: boolean };
  /** Aborted when the task stops (budget refused, job cancelled): a tool stops its work. */
  signal?: AbortSignal;
}

/** One tool an agent may be granted, e.g. `read_file`. `inputSchema` is a JSON Schema object. */
export interface ToolDefinition {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  execute(args: any, ctx: ToolContext): Promise<{ ok: boolean; output: string }>;
}
