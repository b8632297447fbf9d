import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.ts';
import { requestListener } from './request-listener.ts';

// The safety net under every route: whatever a handler does wrong, the client gets an answer and
// the process lives on.
let server: http.Server;
let base: string;
const logged: string[] = [];
const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  const log = createLogger('error', {}, { write: (line: string) => void logged.push(line) });
  server = http.createServer(
    requestListener(
      log,
      [
        (_req, _res, target) => {
          if (target.path === '/throws') throw new Error('a handler bug');
          return false;
        },
        (_req, _res, target) => (target.path === '/rejects' ? Promise.reject(new Error('an async handler bug')) : false),
        (_req, res, target) => {
          if (target.path !== '/fails-after-headers') return false;
          res.writeHead(200).write('partial');
          return Promise.reject(new Error('failed mid-answer'));
        },
      ],
      'Not here.',
    ),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
  await new Promise<void>((r) => server.close(() => r()));
});

describe('a route that fails', () => {
  it('answers 500 with a sentence when it throws, and logs the error', async () => {
    const res = await fetch(`${base}/throws`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ code: 'INTERNAL_SERVER_ERROR', error: expect.stringContaining('log') });
    expect(logged.join('\n')).toContain('a handler bug');
  });

  it('answers 500 when its promise rejects', async () => {
    const res = await fetch(`${base}/rejects`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(500);
    expect(logged.join('\n')).toContain('an async handler bug');
  });

  it('cuts the connection when it fails after the headers went out', async () => {
    await expect(fetch(`${base}/fails-after-headers`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text())).rejects.toThrow();
  });

  it('leaves nothing uncaught, and the server keeps answering', async () => {
    expect(uncaught).toEqual([]);
    expect((await fetch(`${base}/elsewhere`)).status).toBe(404);
  });
});
