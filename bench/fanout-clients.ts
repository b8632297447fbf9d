// The fan-out bench's subscribers in a process of their own (BENCH_FANOUT_CLIENTS=process): the
// server's event loop (AutoDev's or the bare `ws` baseline's) then carries no client's reads, as
// a server's does. The same bare `ws` sockets with one JSON.parse per message as in-process.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { WebSocket } from 'ws';

/** `graphql-ws`: connection_init with the token, then subscribe; `bare`: a plain socket of the baseline. */
type Kind = 'graphql-ws' | 'bare';
type Open = { type: 'open'; kind: Kind; url: string; count: number; token: string; query: string };
type Collect = { type: 'collect'; expected: number; timeoutMs: number };
type ToChild = Open | { type: 'start' } | Collect;
/** receipts: for graphql-ws [receivedAt, seq, createdAt ms], for bare [receivedAt, sentAt, dueAt], flattened. */
export type Collected = { receipts: number[]; perSocket: number[]; cpuMs: number };
type FromChild = { type: 'ready' } | ({ type: 'collected' } & Collected);

/** Starts `count` subscribers in a child process; resolves once every one is connected (and, for graphql-ws, acknowledged). */
export async function spawnClients(kind: Kind, url: string, count: number, token = '', query = '') {
  const child = fork(new URL(import.meta.url), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = async <T extends FromChild['type']>(type: T) => {
    for (;;) {
      const [m] = (await once(child, 'message')) as [FromChild];
      if (m.type === type) return m as Extract<FromChild, { type: T }>;
    }
  };
  const ready = next('ready');
  child.send({ type: 'open', kind, url, count, token, query } satisfies ToChild);
  await ready;
  return {
    /** The measured window starts: the child's CPU is counted from here. */
    start: () => child.send({ type: 'start' } satisfies ToChild),
    /** Waits until each socket got `expected` messages (or `timeoutMs`), then hands over the receipts and ends the child. */
    async collect(expected: number, timeoutMs: number): Promise<Collected> {
      const collected = next('collected');
      child.send({ type: 'collect', expected, timeoutMs } satisfies ToChild);
      const { receipts, perSocket, cpuMs } = await collected;
      await stop(child);
      return { receipts, perSocket, cpuMs };
    },
    close: () => stop(child),
  };
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill();
  await exited;
}

/** The child: opens the sockets and records each message's receipt. */
function runChild() {
  const sockets: WebSocket[] = [];
  const receipts: number[] = [];
  let perSocket: number[] = [];
  let cpuFrom = process.cpuUsage();
  let ready = 0;
  const isReady = () => {
    if (++ready === perSocket.length) process.send!({ type: 'ready' } satisfies FromChild);
  };

  const open = ({ kind, url, count, token, query }: Open) => {
    perSocket = new Array<number>(count).fill(0);
    for (let i = 0; i < count; i++) {
      const ws = kind === 'bare' ? new WebSocket(url) : new WebSocket(url, 'graphql-transport-ws');
      ws.on('error', () => {});
      if (kind === 'bare') {
        ws.on('open', isReady);
        ws.on('message', (m) => {
          const e = JSON.parse((m as Buffer).toString('utf8')) as { sentAt: number; dueAt: number };
          receipts.push(Date.now(), e.sentAt, e.dueAt);
          perSocket[i]++;
        });
      } else {
        ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
        ws.on('message', (m) => {
          const message = JSON.parse((m as Buffer).toString('utf8')) as {
            type: string;
            payload?: { data?: { projectEvents: { seq: number; createdAt: string } } };
          };
          if (message.type === 'next') {
            const { seq, createdAt } = message.payload!.data!.projectEvents;
            receipts.push(Date.now(), seq, Date.parse(createdAt));
            perSocket[i]++;
          } else if (message.type === 'connection_ack') {
            isReady();
            ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
          } else if (message.type === 'ping') ws.send('{"type":"pong"}');
        });
      }
      sockets.push(ws);
    }
  };

  const collect = async ({ expected, timeoutMs }: Collect) => {
    const deadline = Date.now() + timeoutMs;
    while (perSocket.some((n) => n < expected) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const cpu = process.cpuUsage(cpuFrom);
    for (const ws of sockets) ws.terminate();
    process.send!({ type: 'collected', receipts, perSocket, cpuMs: (cpu.user + cpu.system) / 1000 } satisfies FromChild);
  };

  process.on('message', (m: ToChild) => {
    if (m.type === 'open') open(m);
    else if (m.type === 'start') cpuFrom = process.cpuUsage();
    else void collect(m);
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.send && process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) runChild();
