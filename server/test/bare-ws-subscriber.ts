import WebSocket from 'ws';

/**
 * A graphql-transport-ws client written by hand on a bare socket, for tests of the slow-subscriber
 * bound: it can stop and resume reading, and it records the close code. `seqOf` picks the seq of a
 * `next` payload's data that the test follows (undefined: not one of them).
 */
export function bareWsSubscriber(
  url: string,
  token: string,
  payload: { query: string; variables?: Record<string, unknown> },
  seqOf: (data: Record<string, { seq: number; jobId?: string }>) => number | undefined,
) {
  const ws = new WebSocket(url.replace('http', 'ws') + '/graphql', 'graphql-transport-ws');
  const seqs: number[] = [];
  let completed = false;
  let closeCode: number | null = null;
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => {
      closeCode = code;
      resolve({ code, reason: reason.toString() });
    }),
  );
  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
  ws.on('message', (raw) => {
    const m = JSON.parse((raw as Buffer).toString()) as { type: string; payload?: { data?: Record<string, { seq: number }> } };
    if (m.type === 'connection_ack') ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload }));
    if (m.type === 'next' && m.payload?.data) {
      const seq = seqOf(m.payload.data);
      if (seq !== undefined) seqs.push(seq);
    }
    if (m.type === 'complete' || m.type === 'error') completed = true;
  });
  ws.on('error', () => {});
  const socket = () => (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  return {
    seqs,
    closed,
    /** The close code once closed, else null. */
    closeCode: () => closeCode,
    completed: () => completed,
    /** Ends the operation as a client does (the socket stays open). */
    leave: () => ws.send(JSON.stringify({ id: '1', type: 'complete' })),
    stopReading: () => socket().pause(),
    resumeReading: () => socket().resume(),
    close: () => ws.close(),
  };
}
