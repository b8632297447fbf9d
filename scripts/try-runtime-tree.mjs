// Runs the image's runtime tree the way the container would, without a Docker engine: bubblewrap
// stands in for the container (read-only root, uid/gid 10001 with a passwd entry and HOME, a tmpfs
// on /tmp and the data directory, its own PID namespace). Builds the compiled server (`npm run
// build`) and the tree (scripts/build-runtime-tree.mjs), then, against a fresh database on
// DATABASE_URL's server, with the commands of k8s/ (no tsx in the tree): migrates, starts an API
// and a worker, waits until both answer /readyz, runs a fix-failing-tests job through the local
// executor's runner, runs the runner as a runner pod would (Kubernetes executor), and stops the API
// and worker with SIGTERM.
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379 node scripts/try-runtime-tree.mjs
// Exit code 0 when every step worked. Needs bwrap (apt-get install bubblewrap).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = fileURLToPath(new URL('..', import.meta.url));
const adminUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL;
const work = mkdtempSync(path.join(tmpdir(), 'autodev-runtime-'));
const tree = path.join(work, 'app');
const database = `autodev_runtime_${process.pid}`;
const children = new Set();

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function sql(text) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** bwrap's command line: only /usr (and its /lib, /bin links), a few /etc files and the tree, read-only. */
function sandboxed(argv, env, { cwd = '/app' } = {}) {
  writeFileSync(
    path.join(work, 'passwd'),
    'root:x:0:0:root:/root:/usr/sbin/nologin\nautodev:x:10001:10001:AutoDev:/home/autodev:/usr/sbin/nologin\n',
  );
  writeFileSync(path.join(work, 'group'), 'root:x:0:\nautodev:x:10001:\n');
  const args = [
    '--unshare-user',
    '--uid',
    '10001',
    '--gid',
    '10001',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--die-with-parent',
    '--ro-bind',
    '/usr',
    '/usr',
    '--symlink',
    'usr/lib',
    '/lib',
    '--symlink',
    'usr/lib64',
    '/lib64',
    '--symlink',
    'usr/bin',
    '/bin',
    '--symlink',
    'usr/sbin',
    '/sbin',
    '--ro-bind',
    path.join(work, 'passwd'),
    '/etc/passwd',
    '--ro-bind',
    path.join(work, 'group'),
    '/etc/group',
    '--ro-bind',
    '/etc/ssl',
    '/etc/ssl',
    '--ro-bind-try',
    '/etc/ca-certificates',
    '/etc/ca-certificates',
    '--ro-bind',
    '/etc/hosts',
    '/etc/hosts',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    '--dir',
    '/home/autodev',
    '--ro-bind',
    tree,
    '/app',
    '--tmpfs',
    '/app/.data',
    '--chdir',
    cwd,
    '--remount-ro',
    '/',
    '--clearenv',
    ...Object.entries(env).flatMap(([k, v]) => ['--setenv', k, v]),
    ...argv,
  ];
  return spawn('bwrap', args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

function run(name, argv, env, opts) {
  const child = sandboxed(argv, env, opts);
  children.add(child);
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => (children.delete(child), resolve({ code, signal }))));
  return { child, exited, output: () => output, name };
}

/** The node process inside one sandbox (bwrap does not forward signals; a container runtime signals PID 1's command). */
function nodeInside(child) {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
  const below = new Set([String(child.pid)]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, ppid] of rows) {
      if (below.has(ppid) && !below.has(pid)) {
        below.add(pid);
        grew = true;
      }
    }
  }
  const node = rows.find(([pid, , comm]) => below.has(pid) && pid !== String(child.pid) && comm === 'node');
  if (!node) throw new Error('no node process in the sandbox');
  return Number(node[0]);
}

async function until(what, test, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await test().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not within ${ms / 1000} s`);
}

let failed = false;
try {
  for (const step of [
    ['prisma-generate.mjs', '--if-stale'],
    ['build-client.mjs', '--if-stale'],
    ['build-server.mjs'],
    ['build-runtime-tree.mjs', tree],
  ]) {
    execFileSync(process.execPath, [path.join(root, 'scripts', step[0]), ...step.slice(1)], { cwd: root, stdio: 'inherit' });
  }
  mkdirSync(path.join(tree, '.data'), { recursive: true });
  await sql(`CREATE DATABASE ${database}`);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const env = {
    PATH: '/usr/bin:/bin',
    HOME: '/home/autodev',
    NODE_ENV: 'production',
    AUTODEV_DATA_DIR: '/app/.data',
    DATABASE_URL: url.href,
    AUTODEV_SIGNING_KEY: 'runtime-tree-signing-key',
    AUTODEV_ADMIN_TOKEN: 'runtime-tree-admin-token-0123456789',
    LOG_LEVEL: 'warn',
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
  };
  const t0 = Date.now();
  const migrate = run('migrate', ['node', 'dist/server/db/migrate-cli.js'], env);
  const m = await migrate.exited;
  if (m.code !== 0) throw new Error(`migrate exited ${m.code}: ${migrate.output()}`);
  console.log(`migrate: ${migrate.output().trim()} (${Date.now() - t0} ms)`);

  const apiPort = await freePort();
  const workerPort = await freePort();
  const t1 = Date.now();
  const api = run('api', ['node', 'dist/server/main.js'], { ...env, AUTODEV_ROLE: 'api', PORT: String(apiPort), HOST: '127.0.0.1' });
  const worker = run('worker', ['node', 'dist/server/main.js'], {
    ...env,
    AUTODEV_ROLE: 'worker',
    PORT: String(workerPort),
    HOST: '127.0.0.1',
  });
  for (const [p, port] of [
    [api, apiPort],
    [worker, workerPort],
  ]) {
    await until(
      `${p.name} ready`,
      async () => {
        if (p.child.exitCode !== null) throw new Error(`${p.name} exited ${p.child.exitCode}: ${p.output()}`);
        return (await fetch(`http://127.0.0.1:${port}/readyz`)).ok;
      },
      60_000,
    ).catch((err) => {
      throw new Error(`${err.message}\n${p.output()}`);
    });
    console.log(`${p.name}: /readyz 200 after ${Date.now() - t1} ms (read-only root, uid 10001)`);
  }
  const graphql = await fetch(`http://127.0.0.1:${apiPort}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${env.AUTODEV_ADMIN_TOKEN}` },
    body: JSON.stringify({ query: '{ templates(first: 1) { edges { node { slug } } } }' }),
  });
  console.log(`api: a GraphQL query answered ${graphql.status}: ${(await graphql.text()).slice(0, 120)}`);
  if (graphql.status !== 200) failed = true;

  // A job, through the worker's local executor: the compiled runner (dist/server/runner/main.js) in
  // a child process, the offline model. (Not fix-failing-tests: its checks need bubblewrap inside
  // this bubblewrap, which the kernel refuses here, SANDBOX_UNAVAILABLE; the runner-pod step below
  // covers the agent runtime's workspace.)
  const t2 = Date.now();
  const gql = async (query, variables) => {
    const res = await fetch(`http://127.0.0.1:${apiPort}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${env.AUTODEV_ADMIN_TOKEN}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const { createJob } = await gql('mutation($input: CreateJobInput!) { createJob(input: $input) { id } }', {
    input: { templateSlug: 'triage-bug', input: { title: 'Slugs keep accents', report: 'slugify("Café") returns "café"' } },
  });
  let job;
  await until(
    'the job to finish its attempt',
    async () => {
      ({ job } = await gql('query($id: ID!) { job(id: $id) { state events(first: 200) { type message } } }', { id: createJob.id }));
      return !['QUEUED', 'RUNNING'].includes(job.state);
    },
    120_000,
  );
  const types = job.events.map((e) => e.type);
  console.log(`local executor: triage-bug job ${job.state} after ${Date.now() - t2} ms (events: ${[...new Set(types)].join(', ')})`);
  if (job.state !== 'SUCCEEDED' || !types.includes('TASK_COMPLETED')) {
    console.log(job.events.map((e) => `${e.type} ${e.message ?? ''}`).join('\n'));
    failed = true;
  }

  // The runner as a Kubernetes runner pod starts it (kubernetes-job-manifest.ts and config.ts):
  // RUNNER_POD_COMMAND, the spec in AUTODEV_RUNNER_SPEC, HOME and the working directory on the
  // writable /tmp, the rest read-only. An agent crew with tools writes its workspace there.
  const spec = {
    jobId: 'try-runtime-tree',
    attempt: 1,
    template: { slug: 'try', version: 1 },
    crew: {
      process: 'sequential',
      agents: [
        {
          id: 'dev',
          role: 'Engineer',
          goal: 'Look at the workspace',
          backstory: 'A check of the runner pod.',
          model: 'offline',
          tools: ['list_files', 'read_file', 'write_file'],
        },
      ],
      tasks: [{ id: 'look', description: 'List the files', expectedOutput: 'notes', agent: 'dev' }],
    },
    input: {},
    outputSchema: {},
    feedback: null,
    provider: { kind: 'offline' },
    workspace: {},
  };
  const { RUNNER_POD_COMMAND } = await import(path.join(tree, 'dist/server/config.js'));
  const t3 = Date.now();
  const pod = run(
    'runner pod',
    RUNNER_POD_COMMAND,
    { PATH: '/usr/bin:/bin', HOME: '/tmp', AUTODEV_RUNNER_SPEC: gzipSync(JSON.stringify(spec)).toString('base64') },
    { cwd: '/tmp' },
  );
  const r = await pod.exited;
  const last = pod.output().trim().split('\n').at(-1) ?? '';
  console.log(
    `runner pod (${RUNNER_POD_COMMAND.join(' ')}, working directory /tmp): exited ${r.code ?? r.signal} after ${Date.now() - t3} ms; last event: ${last.slice(0, 100)}`,
  );
  if (r.code !== 0 || !last.includes('"type":"result"')) {
    console.log(pod.output());
    failed = true;
  }

  for (const p of [api, worker]) {
    process.kill(nodeInside(p.child), 'SIGTERM');
    const e = await p.exited;
    console.log(`${p.name}: exited ${e.code ?? e.signal} on SIGTERM`);
    if (e.code !== 0) failed = true;
  }
  // LOG_LEVEL=warn: anything either process logged is a warning or an error (e.g. a file missing from the tree).
  for (const p of [api, worker]) {
    // Except the worker's sandbox probe: bubblewrap inside this bubblewrap is refused by the kernel
    // (as in a container without user namespaces); the message says so and is expected here.
    const logged = p
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{') && !l.includes('"msg":"sandbox unavailable'));
    if (logged.length) {
      console.log(`${p.name} logged:\n${logged.join('\n')}`);
      failed = true;
    }
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  failed = true;
} finally {
  for (const c of children) c.kill('SIGKILL');
  await sql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch((err) => console.error(`could not drop ${database}: ${err.message}`));
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
