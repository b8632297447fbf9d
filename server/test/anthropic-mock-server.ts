// A local server speaking Anthropic's Messages API (no model provider is reachable from these
// machines). It answers each POST /v1/messages with the next scripted reply — text and `tool_use`
// content blocks — as one JSON message or, when the request says `stream: true`, as Anthropic's
// server-sent events (message_start, content_block_start/delta/stop with text_delta and
// input_json_delta fragments, message_delta with the stop reason and usage, message_stop). It
// records every request it received, headers included.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { MockReply } from './openai-mock-server.ts';

export interface AnthropicRequest {
  path: string;
  apiKey: string | undefined;
  anthropicVersion: string | undefined;
  body: {
    model: string;
    max_tokens: number;
    stream?: boolean;
    system?: unknown;
    messages: Array<{ role: 'user' | 'assistant'; content: string | Array<{ type: string; [key: string]: unknown }> }>;
    tools?: Array<{ name: string; description?: string; input_schema: Record<string, unknown> }>;
    tool_choice?: unknown;
    [key: string]: unknown;
  };
}

export interface AnthropicMockServer {
  /** The base URL to configure, ending in `/v1`. */
  baseUrl: string;
  requests: AnthropicRequest[];
  close: () => Promise<void>;
}

/** A bug in the mock answers 500 (or cuts a started answer) instead of rejecting unseen. */
function failed(res: http.ServerResponse, err: unknown) {
  if (res.headersSent) res.destroy();
  else
    res
      .writeHead(500, { 'content-type': 'application/json' })
      .end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: `The mock server failed: ${String(err)}` } }));
}

const DEFAULT_USAGE = { promptTokens: 100, completionTokens: 20 };

/** `reply` picks the answer for the n-th request (0-based); a request past the script gets a 500. */
export async function startAnthropicMockServer(
  reply: MockReply[] | ((req: AnthropicRequest, n: number) => MockReply | undefined),
): Promise<AnthropicMockServer> {
  const requests: AnthropicRequest[] = [];
  const sockets = new Set<Socket>();
  const pick = (req: AnthropicRequest, n: number) => (Array.isArray(reply) ? reply[n] : reply(req, n));
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    const respond = async () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/messages')) {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: `No route ${req.method} ${req.url}` } }));
        return;
      }
      const received: AnthropicRequest = {
        path: req.url,
        apiKey: req.headers['x-api-key'] as string | undefined,
        anthropicVersion: req.headers['anthropic-version'] as string | undefined,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      };
      const n = requests.length;
      requests.push(received);
      const answer = pick(received, n);
      if (answer?.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      if (!answer || answer.status) {
        const status = answer?.status ?? 500;
        res.writeHead(status, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            type: 'error',
            error: { type: 'api_error', message: answer ? `Scripted error ${status}` : `The script has no reply for request #${n + 1}` },
          }),
        );
        return;
      }
      if (received.body.stream) streamReply(res, received, answer, n);
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
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const toolUseId = (n: number, i: number, id?: string) => id ?? `toolu_${n + 1}_${i + 1}`;
const inputOf = (args: Record<string, unknown> | string) => (typeof args === 'string' ? JSON.parse(args) : args);
const stopReason = (a: MockReply) => (a.toolCalls?.length ? 'tool_use' : 'end_turn');

function jsonReply(res: http.ServerResponse, req: AnthropicRequest, a: MockReply, n: number) {
  const u = a.usage ?? DEFAULT_USAGE;
  const content = [
    ...(a.text ? [{ type: 'text', text: a.text }] : []),
    ...(a.toolCalls ?? []).map((c, i) => ({ type: 'tool_use', id: toolUseId(n, i, c.id), name: c.name, input: inputOf(c.arguments) })),
  ];
  res.writeHead(200, { 'content-type': 'application/json' }).end(
    JSON.stringify({
      id: `msg_${n + 1}`,
      type: 'message',
      role: 'assistant',
      model: req.body.model,
      content,
      stop_reason: stopReason(a),
      stop_sequence: null,
      usage: { input_tokens: u.promptTokens, output_tokens: u.completionTokens },
    }),
  );
}

/** Text in a few deltas; each tool call's input JSON in two fragments, as Anthropic sends them. */
function streamReply(res: http.ServerResponse, req: AnthropicRequest, a: MockReply, n: number) {
  const u = a.usage ?? DEFAULT_USAGE;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const send = (type: string, data: Record<string, unknown>) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  send('message_start', {
    message: {
      id: `msg_${n + 1}`,
      type: 'message',
      role: 'assistant',
      model: req.body.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: u.promptTokens, output_tokens: 1 },
    },
  });
  let index = 0;
  if (a.text) {
    send('content_block_start', { index, content_block: { type: 'text', text: '' } });
    for (let i = 0; i < a.text.length; i += 7)
      send('content_block_delta', { index, delta: { type: 'text_delta', text: a.text.slice(i, i + 7) } });
    send('content_block_stop', { index });
    index++;
  }
  (a.toolCalls ?? []).forEach((c, i) => {
    const json = JSON.stringify(inputOf(c.arguments));
    const half = Math.ceil(json.length / 2);
    send('content_block_start', { index, content_block: { type: 'tool_use', id: toolUseId(n, i, c.id), name: c.name, input: {} } });
    send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: json.slice(0, half) } });
    send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: json.slice(half) } });
    send('content_block_stop', { index });
    index++;
  });
  send('message_delta', { delta: { stop_reason: stopReason(a), stop_sequence: null }, usage: { output_tokens: u.completionTokens } });
  send('message_stop', {});
  res.end();
}
