import { runSandboxed } from '../sandbox/run-sandboxed.ts';
import { sandboxAvailable } from '../sandbox/sandbox-available.ts';
import { capOutput, fail, MAX_TOOL_OUTPUT_CHARS, type ToolDefinition } from './tool.ts';

export const runCommandTool: ToolDefinition = {
  name: 'run_command',
  description:
    'Run a shell command (sh -c) in the workspace, inside a sandbox: no network unless the template allows it, only the workspace writable, a time limit. Returns the exit code and the tail of the output (stdout and stderr together).',
  inputSchema: {
    type: 'object',
    properties: {
      command: { type: 'string', minLength: 1, maxLength: 10_000, description: 'The command line, e.g. "npm test".' },
      timeoutSeconds: { type: 'integer', minimum: 1, description: 'Time limit; never more than the template allows.' },
    },
    required: ['command'],
    additionalProperties: false,
  },
  async execute(args: { command: string; timeoutSeconds?: number }, ctx) {
    const available = await sandboxAvailable(ctx.sandbox.isolation);
    if (!available.ok) return fail(`Commands cannot run: the sandbox is unavailable. ${available.reason}`);
    const timeoutMs = Math.min(ctx.sandbox.timeoutMs, (args.timeoutSeconds ?? Infinity) * 1000);
    const r = await runSandboxed({
      command: args.command,
      cwd: ctx.workspaceDir,
      timeoutMs,
      // The tool's own output cap bounds what reaches the model whatever the template allows
      // (with room for the status lines, so the tail is never cut again).
      maxOutputBytes: Math.min(ctx.sandbox.maxOutputBytes, MAX_TOOL_OUTPUT_CHARS - 200),
      network: ctx.sandbox.network,
      memoryBytes: ctx.sandbox.memoryBytes,
      maxProcesses: ctx.sandbox.maxProcesses,
      isolation: ctx.sandbox.isolation,
      signal: ctx.signal,
    });
    const status = r.timedOut
      ? `Killed after the time limit of ${Math.round(timeoutMs / 1000)} s.`
      : r.aborted
        ? 'Stopped: the run was cancelled.'
        : `Exit code ${r.exitCode}.`;
    // A cut output starts mid-line: drop that partial line.
    const tail = r.cutBytes > 0 ? r.output.slice(r.output.indexOf('\n') + 1) : r.output;
    const cut =
      r.cutBytes > 0 ? `[output cut: the first ${r.outputBytes - Buffer.byteLength(tail)} of ${r.outputBytes} bytes are not shown]\n` : '';
    const output = r.output.length ? `\n${cut}${tail}` : '\n(no output)';
    return { ok: r.exitCode === 0 && !r.timedOut && !r.aborted, output: capOutput(`${status}${output}`) };
  },
};
