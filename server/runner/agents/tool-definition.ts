// The agent loop codes against the tools' own contract (server/runner/tools/tool.ts).
export type { ToolContext, ToolDefinition, ToolResult } from '../tools/tool.ts';
