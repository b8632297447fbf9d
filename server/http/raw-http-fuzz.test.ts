// The raw HTTP layer under odd request lines, paths, encodings, headers and lengths, sent over plain
// TCP sockets to real AutoDev processes (an API and a worker's ops server). No request may take a
// process down, and every one is answered with a status below 500 (Node's own parser answering 400
// to what it cannot parse counts as an answer).
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAutodevProcess, type AutodevProcess } from '../test/autodev-process.ts';
import { createTestDatabase } from '../test/database.ts';
import { rawRequest, sendRaw, type RawAnswer } from '../test/raw-http.ts';

const ADMIN = 'adv_fuzz_admin_token_0123456789abcdef';
const UUID = '00000000-0000-4000-8000-000000000000';

const TARGETS = [
  '/',
  '//',
  '///',
  '///x',
  '//x/y',
  '/%',
  '/%zz',
  '/%00',
  '/%2',
  '/%%',
  '/%c3',
  '/%ff%fe',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/..%2f..%2fetc%2fpasswd',
  '/../../etc/passwd',
  '/./',
  '/.',
  '/..',
  '/%2F',
  '/%5c',
  '/\\',
  '/\\\\evil.example/',
  '\\',
  '*',
  'x',
  'graphql',
  '',
  '?',
  '/?',
  '/??',
  '/?%',
  '/?a=%zz&b',
  '/?&&==&',
  '/#frag',
  '/;x',
  '/@',
  '/:',
  'http://x/',
  'http://x//',
  'http://x',
  'http://x?q',
  'http://[::1]:4000/graphql',
  'https://x/graphql',
  'HTTP://X/HEALTHZ',
  'http://user:pass@x/',
  'http://%zz/',
  'http://[/',
  'http://x:99999/',
  'ftp://x/',
  'javascript:alert(1)',
  'mailto:a@b',
  'about:blank',
  '/graphql',
  '//graphql',
  '/graphql/',
  '/graphql//',
  '/graphql?',
  '/graphql?query=%',
  '/graphql?query=%7B',
  '/graphql?query={viewer{role}}',
  '/graphql?query=%7Bviewer%7Brole%7D%7D&variables=%7B',
  '/graphql?operationName=%00',
  '/graphql/../graphql',
  '/GRAPHQL',
  '/graphql%00',
  '/graphql%2f',
  '/graphql?query=' + '{'.repeat(2000),
  '/healthz',
  '/healthz/',
  '//healthz',
  '/healthz?x=%',
  '/readyz',
  '/readyz?%',
  '/metrics',
  '/metrics/',
  '//metrics',
  '/metrics?%zz',
  '/artifacts',
  '/artifacts/',
  '/artifacts/%',
  '/artifacts//' + UUID,
  `/artifacts/${UUID}`,
  `/artifacts/${UUID}?expires=%zz&sig=%`,
  `/artifacts/${UUID}?expires=1e400&sig=${'A'.repeat(5000)}`,
  `/artifacts/${UUID}?expires=-1&sig=`,
  `/artifacts/${UUID.toUpperCase()}?sig`,
  '/artifacts/..%2f..%2fetc%2fpasswd',
  '/assets/',
  '/assets/%',
  '/assets/../../package.json',
  '/assets/%2e%2e/%2e%2e/package.json',
  '/index.html',
  '/index.html/x',
  '/assets/x.js/y',
  '/index.html%00',
  '/index.html%00.js',
  '/favicon.ico',
  '/%2e%2e%2f%2e%2e%2fpackage.json',
  '/jobs/1',
  '/jobs/%zz',
  '/x.js',
  '/x.html',
  '/.env',
  '/.git/config',
  '/server/config.ts',
  '/node_modules/',
  '/client/dist/index.html',
  '/' + 'a'.repeat(7000),
  '/' + 'a/'.repeat(3000),
  '/' + '%25'.repeat(2000),
  '/?' + 'a=1&'.repeat(2000),
  '/' + '../'.repeat(1000),
  '/é',
  '/%C3%A9',
  '/☃',
  '/%E2%98%83',
  '/😀',
  '/%F0%9F%98%80',
  '/%ED%A0%80',
  '/\u0085',
  '/\u2028',
  '/%u2028',
  '/%E0%80%AF',
];
const METHODS = ['GET', 'HEAD', 'POST', 'OPTIONS', 'PUT', 'DELETE', 'PATCH', 'TRACE', 'PROPFIND', 'FOO', 'get', 'CONNECT'];
const HOSTS: [string, string][][] = [
  [],
  [['Host', '']],
  [['Host', 'a b']],
  [['Host', '[::']],
  [['Host', 'x:99999']],
  [['Host', 'x:-1']],
  [['Host', 'x/y?z#']],
  [['Host', 'user@x']],
  [['Host', 'évil']],
  [['Host', '%zz']],
  [['Host', 'x'.repeat(5000)]],
  [
    ['Host', 'a'],
    ['Host', 'b'],
  ],
  [
    ['Host', '127.0.0.1'],
    ['Host', '[::'],
  ],
];
const HEADER_SETS: [string, string][][] = [
  [['Accept', 'text/html']],
  [['Accept', 'text/event-stream']],
  [['Accept', '*/*']],
  [['Accept', 'application/graphql-response+json']],
  [['Accept', '%zz\u00ff']],
  [['Authorization', 'Bearer %zz']],
  [['Authorization', `Bearer ${ADMIN}`]],
  [['Authorization', 'Basic']],
  [['Origin', 'null']],
  [['Origin', 'http://%zz']],
  [['X-Request-Id', 'x'.repeat(10_000)]],
  [['Content-Type', 'application/json; charset=%zz']],
  [['Content-Length', '-1']],
  [['Content-Length', '1, 2']],
  [['Content-Length', '99999999999999999999']],
  [
    ['Content-Length', '0'],
    ['Content-Length', '5'],
  ],
  [
    ['Transfer-Encoding', 'chunked'],
    ['Content-Length', '3'],
  ],
  [['Transfer-Encoding', 'gzip']],
  [['Expect', '100-continue']],
  [['If-None-Match', '*']],
  [['Range', 'bytes=99999999-']],
];
const PATHS_FOR_HEADERS = [
  '/',
  '/graphql',
  '/healthz',
  '/readyz',
  '/metrics',
  '/jobs/1',
  '/index.html',
  `/artifacts/${UUID}?expires=1&sig=x`,
  '//',
];

type Case = { name: string; bytes: Buffer; closeAfterWrite?: boolean; expectNoAnswer?: boolean };

/** Every method × target, every Host variant and header set × a few paths, bodies of odd lengths. */
function systematicCases(): Case[] {
  const cases: Case[] = [];
  for (const method of METHODS) {
    for (const target of TARGETS) {
      const headers: [string, string][] = [['Host', '127.0.0.1']];
      if (method === 'POST' || method === 'PUT' || method === 'PATCH') headers.push(['Content-Length', '0']);
      cases.push({ name: `${method} ${target.slice(0, 60)}`, bytes: rawRequest(method, target, headers) });
    }
  }
  for (const hosts of HOSTS) {
    for (const path of PATHS_FOR_HEADERS)
      cases.push({ name: `GET ${path} with Host ${JSON.stringify(hosts).slice(0, 60)}`, bytes: rawRequest('GET', path, hosts) });
  }
  for (const set of HEADER_SETS) {
    for (const method of ['GET', 'POST']) {
      for (const path of PATHS_FOR_HEADERS) {
        cases.push({
          name: `${method} ${path} with ${JSON.stringify(set).slice(0, 60)}`,
          bytes: rawRequest(method, path, [['Host', '127.0.0.1'], ...set]),
        });
      }
    }
  }
  // WebSocket upgrades (graphql-ws lives on /graphql) with odd paths, keys, versions and protocols.
  const upgrade = (path: string, extra: [string, string][]) =>
    rawRequest('GET', path, [['Host', '127.0.0.1'], ['Upgrade', 'websocket'], ['Connection', 'Upgrade'], ...extra]);
  const KEY: [string, string] = ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='];
  for (const path of ['/graphql', '//graphql', '/', '//', '/%', '/graphql?%zz', 'http://x/graphql', '/graphql/..']) {
    for (const extra of [
      [KEY, ['Sec-WebSocket-Version', '13'], ['Sec-WebSocket-Protocol', 'graphql-transport-ws']],
      [KEY, ['Sec-WebSocket-Version', '13'], ['Sec-WebSocket-Protocol', '%zz, ,,']],
      [
        ['Sec-WebSocket-Key', '%'],
        ['Sec-WebSocket-Version', '13'],
      ],
      [KEY, ['Sec-WebSocket-Version', '99']],
      [KEY],
      [KEY, ['Sec-WebSocket-Version', '13'], ['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits=%zz']],
    ] as [string, string][][]) {
      cases.push({ name: `upgrade ${path} ${JSON.stringify(extra).slice(0, 80)}`, bytes: upgrade(path, extra) });
    }
  }
  const query = JSON.stringify({ query: '{ viewer { role } }' });
  for (const [name, bytes] of [
    [
      'body shorter than its Content-Length, then closed',
      Buffer.from(
        `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n${query.slice(0, 10)}`,
      ),
    ],
    [
      'chunked body cut in the middle, then closed',
      Buffer.from(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"que`),
    ],
    ['headers cut in the middle, then closed', Buffer.from('GET /graphql HTTP/1.1\r\nHost: x\r\nAcc')],
    ['request line only, then closed', Buffer.from('GET //')],
  ] as const) {
    cases.push({ name, bytes, closeAfterWrite: true, expectNoAnswer: true });
  }
  for (const [name, bytes] of [
    ['HTTP/1.0 without Host', Buffer.from('GET // HTTP/1.0\r\n\r\n')],
    ['HTTP/0.9 style', Buffer.from('GET /\r\n\r\n')],
    ['HTTP/2 preface', Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')],
    ['HTTP/1.1 without Host', Buffer.from('GET / HTTP/1.1\r\nConnection: close\r\n\r\n')],
    ['bare LF line ends', Buffer.from('GET // HTTP/1.1\nHost: x\nConnection: close\n\n')],
    ['NUL in the request line', Buffer.from('GET /\0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')],
    ['tab in the target', Buffer.from('GET /\tx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')],
    ['binary garbage', Buffer.from(Array.from({ length: 256 }, (_, i) => i))],
    ['TLS client hello', Buffer.from('16030100a5010000a10303', 'hex')],
    [
      'a header line over 16 KB',
      rawRequest('GET', '/', [
        ['Host', 'x'],
        ['X-Big', 'y'.repeat(20_000)],
      ]),
    ],
    [
      '200 headers',
      rawRequest('GET', '/', [['Host', 'x'], ...Array.from({ length: 200 }, (_, i) => [`X-H${i}`, 'v'] as [string, string])]),
    ],
    [
      'a JSON body of the stated length',
      rawRequest(
        'POST',
        '/graphql',
        [
          ['Host', 'x'],
          ['Content-Type', 'application/json'],
          ['Content-Length', String(query.length)],
        ],
        query,
      ),
    ],
    [
      'a body longer than its Content-Length',
      rawRequest(
        'POST',
        '/graphql',
        [
          ['Host', 'x'],
          ['Content-Type', 'application/json'],
          ['Content-Length', '3'],
        ],
        query,
      ),
    ],
    [
      'a chunked body',
      rawRequest(
        'POST',
        '/graphql',
        [
          ['Host', 'x'],
          ['Content-Type', 'application/json'],
          ['Transfer-Encoding', 'chunked'],
        ],
        `${query.length.toString(16)}\r\n${query}\r\n0\r\n\r\n`,
      ),
    ],
    ['two requests pipelined on one connection', Buffer.concat([rawRequest('GET', '//'), rawRequest('GET', '/%')])],
  ] as const) {
    cases.push({ name, bytes });
  }
  return cases;
}

/** Targets built from the characters that trip URL parsers, and arbitrary Unicode paths. */
function generatedTargets(seed: number, count: number): string[] {
  const piece = fc.constantFrom(
    '/',
    '//',
    '%',
    '%2',
    '%zz',
    '%00',
    '%2f',
    '%5c',
    '%25',
    '%c3',
    '%e2%82',
    '.',
    '..',
    '\\',
    '?',
    '#',
    '&',
    '=',
    ';',
    ':',
    '@',
    '[',
    ']',
    'graphql',
    'artifacts',
    'assets',
    'metrics',
    'healthz',
    'index.html',
    'a',
    'é',
    '😀',
    '\u2028',
  );
  const target = fc.oneof(
    fc.array(piece, { maxLength: 12 }).map((p) => p.join('')),
    fc.array(piece, { maxLength: 12 }).map((p) => '/' + p.join('')),
    fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => '/' + s.replace(/[\s]/g, '')),
    fc
      .tuple(fc.constantFrom('http://', 'https://', 'HTTP://', '//'), fc.string({ maxLength: 15 }), fc.array(piece, { maxLength: 8 }))
      .map(([scheme, host, p]) => scheme + host.replace(/\s/g, '') + p.join('')),
  );
  return fc.sample(target, { seed, numRuns: count });
}

let api: AutodevProcess;
let worker: AutodevProcess;
let workerPort: number;
let apiMetricsPort: number;
let workerMetricsPort: number;
let db: { url: string; drop(): Promise<void> };

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

beforeAll(async () => {
  db = await createTestDatabase();
  [workerPort, apiMetricsPort, workerMetricsPort] = [await freePort(), await freePort(), await freePort()];
  const env = { DATABASE_URL: db.url, AUTODEV_ADMIN_TOKEN: ADMIN, AUTODEV_SIGNING_KEY: 'fuzz', AUTODEV_DB_POOL_SIZE: '4' };
  api = await startAutodevProcess('api', { ...env, AUTODEV_METRICS_PORT: String(apiMetricsPort), AUTODEV_METRICS_TOKEN: 'fuzz-metrics' });
  worker = await startAutodevProcess('worker', { ...env, PORT: String(workerPort), AUTODEV_METRICS_PORT: String(workerMetricsPort) });
}, 120_000);
afterAll(async () => {
  await Promise.all([api?.kill('SIGTERM'), worker?.kill('SIGTERM')]);
  await db?.drop();
});

const alive = (p: AutodevProcess) => p.child.exitCode === null && p.child.signalCode === null;

/** Sends every case (8 connections at a time) and returns what does not meet the rule. */
async function sendAll(port: number, process: AutodevProcess, cases: Case[]) {
  const answers: { c: Case; answer: RawAnswer }[] = [];
  for (let i = 0; i < cases.length; i += 8) {
    const batch = cases.slice(i, i + 8);
    answers.push(
      ...(await Promise.all(batch.map(async (c) => ({ c, answer: await sendRaw(port, c.bytes, { closeAfterWrite: c.closeAfterWrite }) })))),
    );
    if (!alive(process))
      throw new Error(`${process.role} died after the batch starting with "${batch[0].name}":\n${process.output().slice(-3000)}`);
  }
  const statuses = answers.map(({ answer }) => answer.status);
  const bad = answers
    .filter(({ c, answer }) =>
      c.expectNoAnswer ? answer.status !== null && answer.status >= 500 : answer.status === null || answer.status >= 500,
    )
    .map(({ c, answer }) => `${c.name} → ${answer.status ?? (answer as { reason: string }).reason}`);
  const histogram: Record<string, number> = {};
  for (const s of statuses) histogram[s ?? 'none'] = (histogram[s ?? 'none'] ?? 0) + 1;
  return { bad, sent: answers.length, fiveHundreds: statuses.filter((s) => s !== null && s >= 500).length, histogram };
}

async function healthy(port: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
}

describe('the raw HTTP layer of a running process', () => {
  it('answers every odd request line, path, encoding, header and length with a status below 500, and stays up (API)', async () => {
    const port = Number(new URL(api.url!).port);
    const cases = [
      ...systematicCases(),
      ...generatedTargets(16, 300).flatMap((t) =>
        ['GET', 'POST'].map((m) => ({
          name: `${m} ${JSON.stringify(t)}`,
          bytes: rawRequest(m, t, [
            ['Host', '127.0.0.1'],
            ['Accept', 'text/html'],
            ['Content-Length', '0'],
          ]),
        })),
      ),
    ];
    const started = Date.now();
    const result = await sendAll(port, api, cases);
    console.log(
      `raw HTTP fuzz, API: ${result.sent} requests in ${Date.now() - started} ms, ${result.fiveHundreds} 5xx, ${result.bad.length} failures, process alive: ${alive(api)}; statuses ${JSON.stringify(result.histogram)}`,
    );
    // The corpus reaches the handlers, not only Node's parser: pages, GraphQL answers and refusals.
    for (const status of [200, 204, 400, 403, 404, 405]) expect(result.histogram[status], `status ${status}`).toBeGreaterThan(0);
    expect(result.bad).toEqual([]);
    expect(alive(api)).toBe(true);
    expect(await healthy(port)).toBe(200);
    expect(api.output()).not.toMatch(/uncaught|unhandled|Unexpected error while handling request/i);
  }, 300_000);

  it('does the same on the API process’s metrics port (with a metrics token set)', async () => {
    const cases = [
      ...systematicCases(),
      ...generatedTargets(18, 150).map((t) => ({
        name: `GET ${JSON.stringify(t)}`,
        bytes: rawRequest('GET', t, [
          ['Host', '127.0.0.1'],
          ['Authorization', 'Bearer fuzz-metrics'],
        ]),
      })),
    ];
    const result = await sendAll(apiMetricsPort, api, cases);
    console.log(
      `raw HTTP fuzz, API metrics port: ${result.sent} requests, ${result.fiveHundreds} 5xx, ${result.bad.length} failures, process alive: ${alive(api)}; statuses ${JSON.stringify(result.histogram)}`,
    );
    expect(result.bad).toEqual([]);
    expect(result.histogram[401]).toBeGreaterThan(0);
    expect(alive(api)).toBe(true);
    expect(await healthy(apiMetricsPort)).toBe(200);
  }, 300_000);

  it('does the same on a worker’s ops server', async () => {
    const cases = [
      ...systematicCases(),
      ...generatedTargets(17, 150).map((t) => ({ name: `GET ${JSON.stringify(t)}`, bytes: rawRequest('GET', t) })),
    ];
    const started = Date.now();
    const result = await sendAll(workerPort, worker, cases);
    console.log(
      `raw HTTP fuzz, worker ops server: ${result.sent} requests in ${Date.now() - started} ms, ${result.fiveHundreds} 5xx, ${result.bad.length} failures, process alive: ${alive(worker)}; statuses ${JSON.stringify(result.histogram)}`,
    );
    expect(result.bad).toEqual([]);
    expect(alive(worker)).toBe(true);
    expect(await healthy(workerPort)).toBe(200);
    // With AUTODEV_METRICS_PORT (as in k8s/), the worker serves the same three paths there too.
    expect((await fetch(`http://127.0.0.1:${workerMetricsPort}/metrics`)).status).toBe(200);
    expect(worker.output()).toContain(`Metrics: http://127.0.0.1:${workerMetricsPort}/metrics`);
    expect(worker.output()).not.toMatch(/uncaught|unhandled/i);
  }, 300_000);
});
