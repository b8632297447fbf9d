// Small in-memory tools with the real tools' names and arguments, for the agent loop's tests
// (the real ones, on a git workspace in a sandbox, live in server/runner/tools/).
import type { ToolDefinition } from '../runner/agents/tool-definition.ts';

export function createFakeTools(files: Map<string, string>, opts: { commandDelayMs?: number } = {}): ToolDefinition[] {
  const schema = (properties: Record<string, unknown>, required: string[]) => ({
    type: 'object',
    properties,
    required,
    additionalProperties: false,
  });
  return [
    {
      name: 'list_files',
      description: 'List the files of the workspace, one path a line.',
      inputSchema: schema({ path: { type: 'string' } }, []),
      execute: () => Promise.resolve({ ok: true, output: [...files.keys()].sort().join('\n') }),
    },
    {
      name: 'read_file',
      description: 'Read a file of the workspace.',
      inputSchema: schema({ path: { type: 'string' }, startLine: { type: 'integer' }, endLine: { type: 'integer' } }, ['path']),
      execute: ({ path }) =>
        Promise.resolve(files.has(path) ? { ok: true, output: files.get(path)! } : { ok: false, output: `No file ${path}.` }),
    },
    {
      name: 'write_file',
      description: 'Write a file of the workspace.',
      inputSchema: schema({ path: { type: 'string' }, content: { type: 'string' } }, ['path', 'content']),
      execute: ({ path, content }) => {
        files.set(path, content);
        return Promise.resolve({ ok: true, output: `Wrote ${content.length} characters to ${path}.` });
      },
    },
    {
      name: 'edit_file',
      description: 'Replace one exact, unique occurrence of oldText by newText in a file.',
      inputSchema: schema({ path: { type: 'string' }, oldText: { type: 'string' }, newText: { type: 'string' } }, [
        'path',
        'oldText',
        'newText',
      ]),
      execute: ({ path, oldText, newText }) => {
        const text = files.get(path);
        if (text === undefined || text.split(oldText).length !== 2)
          return Promise.resolve({ ok: false, output: `oldText does not occur exactly once in ${path}.` });
        files.set(path, text.replace(oldText, newText));
        return Promise.resolve({ ok: true, output: `Edited ${path}.` });
      },
    },
    {
      name: 'run_command',
      description: 'Run a shell command in the workspace.',
      inputSchema: schema({ command: { type: 'string' }, timeoutSeconds: { type: 'integer' } }, ['command']),
      // Ignores its abort signal on purpose: the loop must not wait for a tool that hangs.
      execute: async ({ command }) => {
        if (opts.commandDelayMs) await new Promise((r) => setTimeout(r, opts.commandDelayMs));
        return { ok: true, output: `$ ${command}\nexit code 0` };
      },
    },
  ];
}
