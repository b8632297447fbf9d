import { editFileTool } from './edit-file.ts';
import { listFilesTool } from './list-files.ts';
import { readFileTool } from './read-file.ts';
import { runCommandTool } from './run-command.ts';
import { searchTool } from './search.ts';
import { capOutput, fail, type ToolContext, type ToolDefinition, type ToolResult } from './tool.ts';
import { argumentProblem } from './validate-arguments.ts';
import { PathRefused } from './workspace-path.ts';
import { writeFileTool } from './write-file.ts';

export type { ToolContext, ToolDefinition, ToolResult } from './tool.ts';
export { MAX_TOOL_FILE_BYTES, MAX_TOOL_OUTPUT_CHARS } from './tool.ts';

const ALL: ToolDefinition[] = [listFilesTool, readFileTool, writeFileTool, editFileTool, searchTool, runCommandTool];

/** The names a template may grant (`tools: [...]`). */
export const TOOL_NAMES = ALL.map((t) => t.name);
/** Tools that run commands, so a template granting one needs the sandbox. */
export const COMMAND_TOOLS = ['run_command'];

/**
 * The tools granted to an agent, in the order named. Each validates its arguments against its
 * schema, never throws for what the model asked (a refusal is `ok: false` with a sentence the model
 * can act on), and caps its output. An unknown name throws: templates are checked before they run.
 */
export function buildTools(names: string[]): ToolDefinition[] {
  const unknown = names.filter((n) => !TOOL_NAMES.includes(n));
  if (unknown.length)
    throw new Error(`Unknown tool${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; the tools are ${TOOL_NAMES.join(', ')}.`);
  return [...new Set(names)].map((name) => guarded(ALL.find((t) => t.name === name)!));
}

function guarded(tool: ToolDefinition): ToolDefinition {
  return {
    ...tool,
    async execute(args: unknown, ctx: ToolContext): Promise<ToolResult> {
      if (ctx.signal?.aborted) return fail('The run was cancelled.');
      const problem = argumentProblem(tool.name, tool.inputSchema, args);
      if (problem) return fail(problem);
      try {
        const result = await tool.execute(args, ctx);
        return { ok: result.ok, output: capOutput(result.output) };
      } catch (err) {
        if (err instanceof PathRefused) return fail(err.message);
        // Messages from the filesystem name host paths: the model knows only the workspace.
        return fail(`${tool.name} failed: ${(err as Error).message.split(ctx.workspaceDir).join('.')}`);
      }
    },
  };
}
