// The `offline` model: deterministic, no network, and it goes through the same tool path as a
// real model. Given the tools it was granted it works through a fixed script — list the files,
// read one, write a notes file, edit it, run a command — one tool call per step, then answers
// with text (or an object valid against the task's output schema). A repository may carry a
// playbook for it (OFFLINE_PLAYBOOK_PATH: tool calls per agent role, as the bundled sample
// repository does): an agent whose role it names reads it and makes those calls instead, so a
// demo on that repository ends with a real fix and a passing check. Usage is estimated at four
// characters a token, so budgets behave as with a real model.
import { createHash } from 'node:crypto';
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3GenerateResult,
  LanguageModelV3StreamPart,
  LanguageModelV3Usage,
} from '@ai-sdk/provider';
import { type InstanceSchema, schemaInstance } from '../providers/schema-instance.ts';

export const OFFLINE_NOTES_PATH = 'AUTODEV_NOTES.md';
// A command any sandbox can run, whose output shows the change (the notes file).
export const OFFLINE_COMMAND = 'ls';
/** Where a repository keeps the offline model's playbook: `{"roles": {"<role>": {"calls": [{tool, input}], "answer"?}}}`. */
export const OFFLINE_PLAYBOOK_PATH = '.autodev/offline-playbook.json';

interface Step {
  tool: string;
  input: Record<string, unknown>;
}

const estimateTokens = (text: string) => Math.ceil(text.length / 4);

type PromptPart = Exclude<LanguageModelV3CallOptions['prompt'][number]['content'], string>[number];

/** The whole conversation as text (what a real model would read; the token estimate counts it). */
function textOf(options: LanguageModelV3CallOptions): string {
  const partText = (p: PromptPart): string =>
    p.type === 'text' || p.type === 'reasoning'
      ? p.text
      : p.type === 'tool-call'
        ? JSON.stringify(p.input)
        : p.type === 'tool-result'
          ? JSON.stringify(p.output)
          : '';
  return options.prompt.map((m) => (typeof m.content === 'string' ? m.content : m.content.map(partText).join('\n'))).join('\n');
}

/** What this task already did: the tool calls in the conversation, in order, each with its output. */
function history(options: LanguageModelV3CallOptions) {
  const calls: { tool: string; id: string; input: Record<string, unknown> }[] = [];
  const outputs = new Map<string, { ok: boolean; text: string }>();
  for (const m of options.prompt) {
    if (m.role === 'assistant') {
      for (const p of m.content) {
        if (p.type !== 'tool-call') continue;
        const input = typeof p.input === 'string' ? (JSON.parse(p.input) as Record<string, unknown>) : (p.input as Record<string, unknown>);
        calls.push({ tool: p.toolName, id: p.toolCallId, input });
      }
    }
    if (m.role === 'tool') {
      for (const p of m.content) {
        if (p.type !== 'tool-result') continue;
        const o = p.output;
        const text = 'value' in o ? (typeof o.value === 'string' ? o.value : JSON.stringify(o.value)) : '';
        outputs.set(p.toolCallId, { ok: o.type !== 'error-text' && o.type !== 'error-json', text });
      }
    }
  }
  const output = (tool: string) => {
    const call = calls.find((c) => c.tool === tool);
    return call ? outputs.get(call.id) : undefined;
  };
  const readOf = (file: string) => calls.find((c) => c.tool === 'read_file' && c.input.path === file);
  return { calls, outputs, done: new Set(calls.map((c) => c.tool)), output, readOf };
}

interface PlaybookRole {
  calls: Step[];
  answer?: string;
}

/** The playbook's entry for this agent (the system prompt starts "You are <role>. "), once it was read. */
function playbookEntry(
  options: LanguageModelV3CallOptions,
  h: ReturnType<typeof history>,
): { entry: PlaybookRole; after: number } | undefined {
  const read = h.readOf(OFFLINE_PLAYBOOK_PATH);
  const out = read && h.outputs.get(read.id);
  if (!read || !out?.ok) return undefined;
  let roles: Record<string, PlaybookRole>;
  try {
    roles = (JSON.parse(out.text) as { roles?: Record<string, PlaybookRole> }).roles ?? {};
  } catch {
    return undefined;
  }
  const system = options.prompt.find((m) => m.role === 'system')?.content ?? '';
  const role = Object.keys(roles).find((r) => system.startsWith(`You are ${r}. `));
  return role ? { entry: roles[role], after: h.calls.indexOf(read) + 1 } : undefined;
}

/** The first file in a list_files output: one path a line, directories ending in `/`; a README first. */
function pickFile(listing: string): string | undefined {
  const files = listing
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.endsWith('/') && !/\s/.test(l))
    .sort();
  return files.find((f) => /(^|\/)readme(\.\w+)?$/i.test(f)) ?? files[0];
}

function subjectOf(prompt: string): string {
  const line = /Current task: ([^\n]+)/.exec(prompt)?.[1] ?? prompt.split('\n').find((l) => l.trim()) ?? 'the task';
  return line.trim().slice(0, 80);
}

/** The next scripted tool call, or undefined when the script is through and the model answers. */
function nextStep(options: LanguageModelV3CallOptions, subject: string): Step | undefined {
  if (options.toolChoice?.type === 'none') return undefined;
  const granted = new Set((options.tools ?? []).filter((t) => t.type === 'function').map((t) => t.name));
  const h = history(options);
  const { done, output } = h;
  const want = (tool: string) => granted.has(tool) && !done.has(tool);
  if (want('list_files')) return { tool: 'list_files', input: {} };
  const listing = output('list_files');
  const listed = listing?.ok ? listing.text.split('\n').map((l) => l.trim()) : [];
  if (listed.includes(OFFLINE_PLAYBOOK_PATH) && granted.has('read_file') && !h.readOf(OFFLINE_PLAYBOOK_PATH)) {
    return { tool: 'read_file', input: { path: OFFLINE_PLAYBOOK_PATH } };
  }
  const scripted = playbookEntry(options, h);
  if (scripted) {
    // The playbook's calls in order, those of tools this agent was granted; then the answer.
    return scripted.entry.calls.filter((c) => granted.has(c.tool))[h.calls.length - scripted.after];
  }
  const file = pickFile(listed.filter((l) => l !== OFFLINE_PLAYBOOK_PATH).join('\n'));
  if (file && granted.has('read_file') && !h.readOf(file)) return { tool: 'read_file', input: { path: file } };
  if (want('write_file')) {
    const read = file ? h.readOf(file) : undefined;
    const readOut = read && h.outputs.get(read.id);
    const firstLine = readOut?.ok
      ? readOut.text
          .split('\n')
          .find((l) => l.trim())
          ?.slice(0, 120)
      : undefined;
    const content = `# Notes from the offline model\n\nTask: ${subject}\n${file ? `Read: ${file}${firstLine ? ` (starts with: ${firstLine})` : ''}\n` : ''}Status: draft\n`;
    return { tool: 'write_file', input: { path: OFFLINE_NOTES_PATH, content } };
  }
  if (done.has('write_file') && output('write_file')?.ok && want('edit_file')) {
    return { tool: 'edit_file', input: { path: OFFLINE_NOTES_PATH, oldText: 'Status: draft', newText: 'Status: checked' } };
  }
  if (want('run_command')) return { tool: 'run_command', input: { command: OFFLINE_COMMAND } };
  return undefined;
}

function answer(options: LanguageModelV3CallOptions, prompt: string, subject: string): string {
  const seed = createHash('sha256').update(prompt.slice(0, 4000)).digest('hex');
  const format = options.responseFormat;
  if (format?.type === 'json') {
    const value = format.schema
      ? schemaInstance(format.schema as InstanceSchema, { subject, seed })
      : { summary: `Offline answer for "${subject}".` };
    return JSON.stringify(value, null, 2);
  }
  const h = history(options);
  // A reviewer's comment is in the prompt after this heading (task-prompt.ts): say it was read.
  const comment = /Feedback on the previous attempt:\n(?!Previous output:|Check ")([^\n]+)/.exec(prompt)?.[1];
  const feedback = comment ? ` Addressed the reviewer's feedback ("${comment.slice(0, 120)}").` : '';
  const scripted = playbookEntry(options, h)?.entry.answer;
  if (scripted) return scripted + feedback;
  const used = [...h.done].join(', ');
  return `Offline answer for "${subject}" (ref ${seed.slice(0, 8)}): ${used ? `used ${used}; ` : ''}the task is complete.${feedback}`;
}

function usage(input: number, output: number): LanguageModelV3Usage {
  return {
    inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: output, text: output, reasoning: undefined },
  };
}

async function pause(ms: number, signal?: AbortSignal) {
  signal?.throwIfAborted();
  if (!ms) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function createOfflineModel(modelId = 'offline', opts: { delayMs?: number } = {}): LanguageModelV3 {
  let calls = 0;
  const generate = async (options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> => {
    await pause(opts.delayMs ?? 0, options.abortSignal);
    const prompt = textOf(options);
    const subject = subjectOf(prompt);
    const step = nextStep(options, subject);
    const n = ++calls;
    const content: LanguageModelV3Content[] = step
      ? [{ type: 'tool-call', toolCallId: `offline-${n}`, toolName: step.tool, input: JSON.stringify(step.input) }]
      : [{ type: 'text', text: answer(options, prompt, subject) }];
    const produced = step ? JSON.stringify(step.input) : (content[0] as { text: string }).text;
    return {
      content,
      finishReason: { unified: step ? 'tool-calls' : 'stop', raw: step ? 'tool_calls' : 'stop' },
      usage: usage(estimateTokens(prompt), estimateTokens(produced)),
      response: { id: `offline-${n}`, modelId, timestamp: new Date(0) },
      warnings: [],
    };
  };
  return {
    specificationVersion: 'v3',
    provider: 'offline',
    modelId,
    supportedUrls: {},
    doGenerate: generate,
    async doStream(options) {
      const r = await generate(options);
      const parts: LanguageModelV3StreamPart[] = [
        { type: 'stream-start', warnings: [] },
        { type: 'response-metadata', ...r.response },
      ];
      for (const c of r.content) {
        if (c.type === 'text') {
          parts.push({ type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: c.text }, { type: 'text-end', id: 't' });
        } else if (c.type === 'tool-call') {
          parts.push(c);
        }
      }
      parts.push({ type: 'finish', usage: r.usage, finishReason: r.finishReason });
      return {
        stream: new ReadableStream({
          start(controller) {
            for (const p of parts) controller.enqueue(p);
            controller.close();
          },
        }),
      };
    },
  };
}
