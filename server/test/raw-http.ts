import net from 'node:net';

export type RawAnswer = { status: number } | { status: null; reason: 'closed' | 'timeout' };

/**
 * Writes `bytes` to a fresh TCP connection and resolves with the status code of the first answer,
 * as soon as its status line arrives (bodies are not read: GraphiQL alone is 9 MB). A connection
 * closed without an answer, or nothing within `timeoutMs`, is reported as such.
 */
export function sendRaw(
  port: number,
  bytes: string | Buffer,
  opts: { timeoutMs?: number; closeAfterWrite?: boolean } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let head = '';
    const done = (answer: RawAnswer) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done({ status: null, reason: 'timeout' }), opts.timeoutMs ?? 5000);
    socket.on('connect', () => {
      socket.write(bytes);
      if (opts.closeAfterWrite) socket.end();
    });
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      // Interim answers (100 Continue) are skipped: the final status is the one that counts (101 is final).
      const interim = /^HTTP\/1\.[01] 10[023][^\r]*\r\n(?:[^\r]+\r\n)*\r\n/.exec(head);
      if (interim) head = head.slice(interim[0].length);
      const line = /^HTTP\/1\.[01] (101|[2-9]\d\d)/.exec(head);
      if (line) done({ status: Number(line[1]) });
      else if (head.includes('\r\n') && !/^HTTP\/1\.[01] 10[023]/.test(head)) done({ status: null, reason: 'closed' });
    });
    socket.on('error', () => done({ status: null, reason: 'closed' }));
    socket.on('close', () => done({ status: null, reason: 'closed' }));
  });
}

/** A request in HTTP/1.1 wire format; `headers` are written as given (so duplicates and odd values are possible). */
export function rawRequest(method: string, target: string, headers: [string, string][] = [['Host', '127.0.0.1']], body = ''): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, ...headers.map(([k, v]) => `${k}: ${v}`), 'Connection: close', '', body];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}
