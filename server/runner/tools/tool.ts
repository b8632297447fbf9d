import type { Isolation } from '../sandbox/run-sandboxed.ts';
/** What a tool may touch: the attempt's workspace and the sandbox limits for commands. */
export interface ToolContext {
  workspaceDir: string;
  sandbox: {
    timeoutMs: number;
    maxOutputBytes: number;
    network: boolean;
    memoryBytes?: number;
    maxProcesses?: number;
    /** Default bubblewrap; `pod` on the Kubernetes executor. */ isolation?: Isolation;
  };
  signal?: AbortSignal;
}

export interface ToolResult {
  /** false when the call failed (bad arguments, refused path, non-zero exit): the model reads `output` to recover. */
  ok: boolean;
  output: string;
}

export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the arguments (an object); execute validates against it. */
  inputSchema: Record<string, unknown>;
  /** `args` is what the model sent, checked against inputSchema before the call; each tool states its own shape. */
  execute(args: unknown, ctx: ToolContext): Promise<ToolResult>;
}

/** Longest output any tool returns to the model, in characters; longer output is cut with a note. */
export const MAX_TOOL_OUTPUT_CHARS = 30_000;
/** Largest file read_file, edit_file and search look into, and largest content write_file takes. */
export const MAX_TOOL_FILE_BYTES = 1024 * 1024;

export const fail = (output: string): ToolResult => ({ ok: false, output });
export const succeed = (output: string): ToolResult => ({ ok: true, output });

/** Cuts text to the tool output cap, keeping the head (at a line end when one is near), and says how much was cut. */
export function capOutput(text: string, max = MAX_TOOL_OUTPUT_CHARS): string {
  if (text.length <= max) return text;
  let head = text.slice(0, max - 100);
  const lineEnd = head.lastIndexOf('\n');
  if (lineEnd > head.length - 1000) head = head.slice(0, lineEnd);
  return `${head}\n[output cut: ${text.length - head.length} more characters not shown]`;
}
