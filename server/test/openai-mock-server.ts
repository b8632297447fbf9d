// A local server speaking OpenAI's chat-completions protocol (no model provider is reachable from
// these machines). It answers each POST /v1/chat/completions with the next scripted reply —
// final text or `tool_calls` — as one JSON body or, when the request says `stream: true`, as
// server-sent events in OpenAI's chunk format (deltas, tool-call argument fragments, a usage
// chunk when `stream_options.include_usage`, then `[DONE]`). It records every request it received.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MockToolCall {
  name: string;
  /** An object (sent as its JSON text) or the raw arguments text. */
  arguments: Record<string, unknown> | string;
  id?: string;
}

export interface MockReply {
  text?: string;
  toolCalls?: MockToolCall[];
  usage?: { promptTokens: number; completionTokens: number };
  /** Hold the answer this long (an abort test cuts in during the wait). */
  delayMs?: number;
  /** Hold the answer until this settles (a test that must be watching before the model answers). */
  holdUntil?: Promise<unknown>;
  /** Streaming: pause this long between text chunks (a model writing slowly). */
  chunkDelayMs?: number;
  /** Streaming: pause this long after the content and tool calls, before the finish and usage chunks. */
  pauseBeforeFinishMs?: number;
  /** Answer with this HTTP error status instead. */
  status?: number;
  /** Streaming: told the character offset of each text chunk as it is written (a latency benchmark's clock). */
  onTextChunk?: (offset: number) => void;
}

export interface ReceivedRequest {
  path: string;
  authorization: string | undefined;
  body: {
    model: string;
    stream?: boolean;
    messages: Array<{
      role: string;
      content: string | null;
      tool_calls?: Array<{ id: string; type: string; function: { name: string; arguments: string } }>;
      tool_call_id?: string;
    }>;
    tools?: Array<{ type: 'function'; function: { name: string; description?: string; parameters: Record<string, unknown> } }>;
    tool_choice?: unknown;
    response_format?: unknown;
    stream_options?: { include_usage?: boolean };
    [key: string]: unknown;
  };
}

export interface OpenAiMockServer {
  /** The base URL to configure, ending in `/v1`. */
  baseUrl: string;
  requests: ReceivedRequest[];
  /** Requests whose answer was cut because the client went away. */
  abortedRequests: number;
  close: () => Promise<void>;
}

/** A bug in the mock answers 500 (or cuts a started answer) instead of rejecting unseen. */
function failed(res: http.ServerResponse, err: unknown) {
  if (res.headersSent) res.destroy();
  else
    res
      .writeHead(500, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: { message: `The mock server failed: ${String(err)}`, type: 'server_error' } }));
}

const DEFAULT_USAGE = { promptTokens: 100, completionTokens: 20 };

/**
 * `reply` picks the answer for the n-th request (0-based), given the request; a request past the
 * script gets a 500, so a loop that asks more than a test expects fails visibly.
 */
export async function startOpenAiMockServer(
  reply: MockReply[] | ((req: ReceivedRequest, n: number) => MockReply | undefined),
): Promise<OpenAiMockServer> {
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const state = { abortedRequests: 0 };
  const pick = (req: ReceivedRequest, n: number) => (Array.isArray(reply) ? reply[n] : reply(req, n));

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    const respond = async () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { message: `No route ${req.method} ${req.url}` } }));
        return;
      }
      const received: ReceivedRequest = {
        path: req.url,
        authorization: req.headers.authorization,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      };
      const n = requests.length;
      requests.push(received);
      const answer = pick(received, n);
      let gone = false;
      res.on('close', () => {
        if (!res.writableFinished) {
          gone = true;
          state.abortedRequests++;
        }
      });
      if (answer?.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      if (answer?.holdUntil) await answer.holdUntil;
      if (gone) return;
      if (!answer || answer.status) {
        const status = answer?.status ?? 500;
        res.writeHead(status, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            error: {
              message: answer ? `Scripted error ${status}` : `The script has no reply for request #${n + 1}`,
              type: 'server_error',
            },
          }),
        );
        return;
      }
      if (received.body.stream) await streamReply(res, received, answer, n);
      else jsonReply(res, received, answer, n);
    };
    req.on('end', () => {
      respond().catch((err: unknown) => failed(res, err));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    get abortedRequests() {
      return state.abortedRequests;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const callId = (n: number, i: number, call: MockToolCall) => call.id ?? `call_${n + 1}_${i + 1}`;
const argsText = (call: MockToolCall) => (typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments));
const finishReason = (a: MockReply) => (a.toolCalls?.length ? 'tool_calls' : 'stop');
const usageOf = (a: MockReply) => {
  const u = a.usage ?? DEFAULT_USAGE;
  return { prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens };
};

function jsonReply(res: http.ServerResponse, req: ReceivedRequest, a: MockReply, n: number) {
  const toolCalls = a.toolCalls?.map((c, i) => ({
    id: callId(n, i, c),
    type: 'function',
    function: { name: c.name, arguments: argsText(c) },
  }));
  res.writeHead(200, { 'content-type': 'application/json' }).end(
    JSON.stringify({
      id: `chatcmpl-${n + 1}`,
      object: 'chat.completion',
      created: 1_700_000_000 + n,
      model: req.body.model,
      choices: [
        {
          index: 0,
          finish_reason: finishReason(a),
          message: { role: 'assistant', content: a.text ?? null, ...(toolCalls?.length ? { tool_calls: toolCalls } : {}) },
        },
      ],
      usage: usageOf(a),
    }),
  );
}

/** Text in a few deltas; each tool call's arguments in two fragments, as real providers send them. */
async function streamReply(res: http.ServerResponse, req: ReceivedRequest, a: MockReply, n: number) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const base = { id: `chatcmpl-${n + 1}`, object: 'chat.completion.chunk', created: 1_700_000_000 + n, model: req.body.model };
  const send = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    res.write(`data: ${JSON.stringify({ ...base, choices, ...extra })}\n\n`);
  send([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
  const text = a.text ?? '';
  for (let i = 0; i < text.length; i += 7) {
    if (a.chunkDelayMs && i > 0) await new Promise((r) => setTimeout(r, a.chunkDelayMs));
    if (res.destroyed) return;
    send([{ index: 0, delta: { content: text.slice(i, i + 7) }, finish_reason: null }]);
    a.onTextChunk?.(i);
  }
  a.toolCalls?.forEach((c, i) => {
    const args = argsText(c);
    const half = Math.ceil(args.length / 2);
    send([
      {
        index: 0,
        delta: {
          tool_calls: [{ index: i, id: callId(n, i, c), type: 'function', function: { name: c.name, arguments: args.slice(0, half) } }],
        },
        finish_reason: null,
      },
    ]);
    send([{ index: 0, delta: { tool_calls: [{ index: i, function: { arguments: args.slice(half) } }] }, finish_reason: null }]);
  });
  if (a.pauseBeforeFinishMs) await new Promise((r) => setTimeout(r, a.pauseBeforeFinishMs));
  if (res.destroyed) return;
  send([{ index: 0, delta: {}, finish_reason: finishReason(a) }]);
  if (req.body.stream_options?.include_usage) send([], { usage: usageOf(a) });
  res.end('data: [DONE]\n\n');
}
