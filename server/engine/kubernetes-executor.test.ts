import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKubeApi } from '../test/fake-kube-api.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { nodesOf } from '../test/job-lists.ts';
import { processAlive, SCRIPTED_RUNNER, waitForJob } from '../test/scripted.ts';
import { prepareSampleRepository } from '../examples/sample-repository.ts';
import { buildJobManifest, kubernetesJobName } from './executors/kubernetes-job-manifest.ts';
import { runnerSecretEnv } from './executors/kubernetes.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const API_KEY = 'sk-kube-test-5f1c0a9e7d3b';
const TERMINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'BUDGET_EXCEEDED', 'REJECTED'];
const crew = {
  process: 'sequential',
  agents: [{ id: 'writer', role: 'Writer', goal: 'Write the text', backstory: 'A test agent.', model: 'claude-haiku-4-5' }],
  tasks: [{ id: 'write', description: 'Write the text', expectedOutput: 'The text', agent: 'writer' }],
};

let kube: Awaited<ReturnType<typeof startFakeKubeApi>>;
let t: TestServer;
let dir: string;
let sampleRepository: string;

async function template(slug: string, executor: object, extra: object = {}) {
  const res = await t.gql(`mutation($input: TemplateInput!) { upsertTemplate(input: $input) { slug } }`, {
    input: {
      slug,
      name: slug,
      description: 'Kubernetes executor test template',
      crew,
      inputSchema: { type: 'object', properties: { script: { type: 'string' } }, additionalProperties: false },
      outputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false },
      maxAttempts: 1,
      timeoutSeconds: 20,
      requiresReview: false,
      executor: { kind: 'kubernetes', ...executor },
      ...extra,
    },
  });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
}

async function launch(slug: string, script?: string): Promise<string> {
  const res = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
    input: { templateSlug: slug, input: script ? { script } : {} },
  });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.createJob.id;
}

const created = (jobId: string) =>
  kube.requests.find((r) => r.method === 'POST' && r.body?.metadata?.labels?.['autodev.dev/job-id'] === jobId)!.body;

beforeAll(async () => {
  kube = await startFakeKubeApi({
    cwd: REPO,
    entrypoints: {
      // The image's command (/app/dist/server/runner/main.js, asserted below) needs the built tree,
      // which scripts/try-runtime-tree.mjs runs as a pod would; here the same runner from source.
      'autodev-runner:test': [process.execPath, '--import', 'tsx', 'server/runner/main.ts'],
      'autodev-scripted:test': [process.execPath, SCRIPTED_RUNNER],
      'autodev-oom:test': [process.execPath, SCRIPTED_RUNNER],
      'autodev-cut-log:test': [process.execPath, SCRIPTED_RUNNER],
    },
    oomImages: ['autodev-oom:test'],
    cutLogImages: ['autodev-cut-log:test'],
    missingImages: ['registry.invalid/no-such-runner:1'],
    secrets: { 'autodev-runner': { AUTODEV_MODEL_API_KEY: API_KEY, GITHUB_TOKEN: 'ghp_kube_test_token' } },
  });
  dir = await mkdtemp(path.join(tmpdir(), 'autodev-kube-'));
  sampleRepository = await prepareSampleRepository(path.join(dir, 'sample'));
  const kubeconfig = path.join(dir, 'kubeconfig.json');
  await writeFile(kubeconfig, kube.kubeConfig.exportConfig());
  t = await startTestServer({
    role: 'all',
    env: {
      AUTODEV_EXECUTOR: 'kubernetes',
      KUBECONFIG: kubeconfig,
      AUTODEV_K8S_NAMESPACE: 'autodev',
      AUTODEV_K8S_RUNNER_IMAGE: 'autodev-runner:test',
      AUTODEV_K8S_JOB_TTL_SECONDS: '600',
      AUTODEV_MODEL_API_KEY: API_KEY,
      AUTODEV_ATTEMPT_LEASE_MS: '3000',
      AUTODEV_RUNNER_ENV_ALLOW: 'GITHUB_TOKEN',
      AUTODEV_K8S_RUNNER_CPU: '250m',
      AUTODEV_K8S_RUNNER_MEMORY: '384Mi',
      AUTODEV_MODEL_TIMEOUT_MS: '45000',
      AUTODEV_REPOSITORY_ROOTS: dir,
    },
  });
  await template('kube-reference', { resources: { cpu: '500m', memory: '256Mi' }, env: ['GITHUB_TOKEN'] });
  await template('kube-scripted', { image: 'autodev-scripted:test', env: ['GITHUB_TOKEN'] });
  await template('kube-deadline', { image: 'autodev-scripted:test' }, { timeoutSeconds: 1 });
  await template('kube-oom', { image: 'autodev-oom:test', resources: { memory: '64Mi' } });
  await template('kube-missing-image', { image: 'registry.invalid/no-such-runner:1' });
  await template('kube-cut-log', { image: 'autodev-cut-log:test' });
  // The agent runtime in a runner pod: the offline model's tool loop (run_command included) and a
  // check that says where it ran and what it could see.
  await template(
    'kube-agent',
    {},
    {
      crew: {
        process: 'sequential',
        agents: [{ ...crew.agents[0], tools: ['list_files', 'read_file', 'write_file', 'edit_file', 'run_command'] }],
        tasks: crew.tasks,
      },
      inputSchema: {
        type: 'object',
        properties: { repository: { type: 'string' } },
        required: ['repository'],
        additionalProperties: false,
      },
      outputSchema: { type: 'object' },
      workspace: { repositoryField: 'repository' },
      checks: [
        {
          name: 'where',
          command: 'echo "cwd=$PWD"; if env | grep -q AUTODEV_; then echo "runner variables visible"; exit 9; fi',
          timeoutSeconds: 30,
        },
      ],
      timeoutSeconds: 60,
    },
  );
}, 60_000);

/** The pid of the `sleep 300` a scripted runner started (it logs `grandchild <pid>` first). */
function grandchildOf(job: { events: { message: string | null }[] }): number {
  const line = job.events.map((e) => e.message ?? '').find((m) => /^grandchild \d+$/.test(m));
  expect(line, 'the runner logged the process it started').toBeTruthy();
  return Number(line!.split(' ')[1]);
}

afterAll(async () => {
  await t?.close();
  await kube?.close(); // fails if a container's process group outlived it
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the Kubernetes executor (against a local server speaking the Kubernetes API)', () => {
  it('submits a locked-down batch/v1 Job per attempt, and the pod log becomes the job events', async () => {
    const id = await launch('kube-reference');
    const job = await waitForJob(t, id, TERMINAL);
    expect(job.state).toBe('SUCCEEDED');
    const types = job.events.map((e: any) => e.type);
    for (const type of ['TASK_STARTED', 'USAGE', 'TASK_COMPLETED', 'GUARDRAIL']) expect(types).toContain(type);
    expect(job.costUsd).toBeGreaterThan(0);

    const manifest = created(id);
    expect(manifest.apiVersion).toBe('batch/v1');
    expect(manifest.kind).toBe('Job');
    expect(manifest.metadata.name).toBe(kubernetesJobName(id, 1));
    expect(manifest.metadata.namespace).toBe('autodev');
    expect(manifest.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'autodev',
      'autodev.dev/job-id': id,
      'autodev.dev/attempt': '1',
    });
    expect(manifest.spec.backoffLimit).toBe(0);
    expect(manifest.spec.activeDeadlineSeconds).toBe(20);
    expect(manifest.spec.ttlSecondsAfterFinished).toBe(600);
    const pod = manifest.spec.template.spec;
    expect(manifest.spec.template.metadata.labels['autodev.dev/job-id']).toBe(id);
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.containers).toHaveLength(1);
    const [c] = pod.containers;
    expect(c.image).toBe('autodev-runner:test');
    expect(c.command).toEqual(['node', '/app/dist/server/runner/main.js']);
    expect(c.workingDir).toBe('/tmp');
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.resources).toEqual({ requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
    // Secrets by reference only: the key's value appears nowhere in what was sent to the API server.
    const secretRefs = c.env
      .filter((e: any) => e.valueFrom)
      .map((e: any) => [e.name, e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key]);
    expect(secretRefs.sort()).toEqual([
      ['AUTODEV_MODEL_API_KEY', 'autodev-runner', 'AUTODEV_MODEL_API_KEY'],
      ['GITHUB_TOKEN', 'autodev-runner', 'GITHUB_TOKEN'],
    ]);
    expect(JSON.stringify(kube.requests)).not.toContain(API_KEY);
    expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    // Every call carried the worker's credentials from its kubeconfig.
    expect(kube.requests.every((r) => r.authorization === 'Bearer fake-service-account-token')).toBe(true);
  });

  it("runs the agent runtime in the runner pod, which is the sandbox: the same tools and checks, no bubblewrap, the workspace under the pod's /tmp", async () => {
    const res = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
      input: { templateSlug: 'kube-agent', input: { repository: sampleRepository } },
    });
    expect(res.errors).toBeUndefined();
    const id = res.data.createJob.id;
    const job = await waitForJob(t, id, TERMINAL, 60_000);
    expect(job.state, JSON.stringify(job.events.slice(-5))).toBe('SUCCEEDED');
    const spec = JSON.parse(
      gunzipSync(
        Buffer.from(created(id).spec.template.spec.containers[0].env.find((e: any) => e.name === 'AUTODEV_RUNNER_SPEC').value, 'base64'),
      ).toString('utf8'),
    );
    expect(spec.sandbox).toEqual({ network: false, isolation: 'pod' });
    // The offline model ran a command through run_command, and the check ran, outside bubblewrap
    // (whose workspace is /workspace) and without the runner's variables.
    const results = job.events.filter((e: any) => e.type === 'TOOL_RESULT').map((e: any) => e.data);
    expect(results).toContainEqual(expect.objectContaining({ tool: 'run_command', ok: true }));
    const check = job.events.find((e: any) => e.data?.check)?.data.check;
    expect(check).toMatchObject({ name: 'where', passed: true });
    expect(check.output).toMatch(/^cwd=\/.*autodev-attempt-[^/]+\/workspace$/m);
    expect(job.events.map((e: any) => e.type)).toContain('ARTIFACT');
  }, 90_000);

  it('the runner in the pod sees the secrets it may see, from the Secret', async () => {
    const id = await launch('kube-scripted', 'env');
    const job = await waitForJob(t, id, TERMINAL);
    expect(job.state).toBe('SUCCEEDED');
    // A template without executor.resources still gets requests = limits (AUTODEV_K8S_RUNNER_CPU/_MEMORY).
    const [c] = created(id).spec.template.spec.containers;
    expect(c.resources).toEqual({ requests: { cpu: '250m', memory: '384Mi' }, limits: { cpu: '250m', memory: '384Mi' } });
    // AUTODEV_MODEL_TIMEOUT_MS reaches the runner in its spec.
    const encoded = c.env.find((e: any) => e.name === 'AUTODEV_RUNNER_SPEC').value;
    expect(JSON.parse(gunzipSync(Buffer.from(encoded, 'base64')).toString('utf8')).provider.timeoutMs).toBe(45000);
    const env = job.events
      .find((e: any) => e.message?.startsWith('env: '))!
      .message.slice(5)
      .split(',');
    expect(env).toContain('GITHUB_TOKEN');
    expect(env).toContain('AUTODEV_MODEL_API_KEY');
    expect(env).not.toContain('DATABASE_URL');
  });

  it('a pod that exits non-zero, an OOMKilled pod, a deadline and a missing image each become the right attempt failure', async () => {
    const [crash, oom, deadline, missing] = await Promise.all([
      launch('kube-scripted', 'crash'),
      launch('kube-oom', 'slow'),
      launch('kube-deadline', 'hang'),
      launch('kube-missing-image', 'ok'),
    ]);
    const crashed = await waitForJob(t, crash, TERMINAL);
    expect(crashed.state).toBe('FAILED');
    expect(crashed.attempts[0].errorCode).toBe('RUNNER_CRASHED');
    expect(crashed.attempts[0].exitReason).toMatch(/code 139.*Segmentation fault/);

    const oomed = await waitForJob(t, oom, TERMINAL);
    expect(oomed.state).toBe('FAILED');
    expect(oomed.attempts[0].errorCode).toBe('OOM_KILLED');
    expect(oomed.attempts[0].exitReason).toBe('the runner was killed for exceeding its memory limit (64Mi)');
    // The template set only memory: cpu comes from the configured default.
    expect(created(oom).spec.template.spec.containers[0].resources.limits).toEqual({ cpu: '250m', memory: '64Mi' });

    const timedOut = await waitForJob(t, deadline, TERMINAL);
    expect(timedOut.state).toBe('FAILED');
    expect(timedOut.attempts[0].errorCode).toBe('TIMEOUT');
    expect(created(deadline).spec.activeDeadlineSeconds).toBe(1);
    // What the killed containers' runners had started (a sleep 300 each) ended with them.
    await expect.poll(() => kube.liveContainerGroups(), { timeout: 5000 }).toEqual([]);

    const pull = await waitForJob(t, missing, TERMINAL);
    expect(pull.state).toBe('FAILED');
    expect(pull.attempts[0].errorCode).toBe('IMAGE_PULL_FAILED');
    expect(pull.attempts[0].exitReason).toMatch(
      /registry\.invalid\/no-such-runner:1 could not be pulled \((ErrImagePull|ImagePullBackOff)/,
    );
    // The Job of a pod that never started is deleted rather than left pulling forever.
    expect(kube.jobs.has(kubernetesJobName(missing, 1))).toBe(false);
  });

  it('a log stream cut while the runner still runs: the pod is stopped and the attempt fails retryably (nothing runs unrecorded)', async () => {
    const id = await launch('kube-cut-log', 'slow');
    const job = await waitForJob(t, id, TERMINAL);
    expect(job.state).toBe('FAILED'); // maxAttempts 1
    expect(job.attempts[0].errorCode).toBe('RUNNER_LOG_LOST');
    await expect.poll(() => kube.jobs.has(kubernetesJobName(id, 1)), { timeout: 5000 }).toBe(false);
    expect([...kube.pods.values()].some((p) => p.metadata!.labels!['job-name'] === kubernetesJobName(id, 1))).toBe(false);
  });

  it('the model key is referenced from the Secret whenever the provider needs one, even if the worker does not hold it', () => {
    const spec = (kind: string) => ({ provider: { kind } }) as any;
    expect(runnerSecretEnv({ envAllow: ['GITHUB_TOKEN'], envExtra: {}, spec: spec('openai') })).toEqual([
      'GITHUB_TOKEN',
      'AUTODEV_MODEL_API_KEY',
    ]);
    expect(runnerSecretEnv({ envAllow: ['GITHUB_TOKEN'], envExtra: {}, spec: spec('offline') })).toEqual(['GITHUB_TOKEN']);
  });

  it('cancel deletes the Job with propagation, and its pod stops', async () => {
    const id = await launch('kube-scripted', 'slow');
    await expect
      .poll(
        async () =>
          nodesOf((await t.gql(`query($id: ID!) { job(id: $id) { events { edges { node { message } } } } }`, { id })).data.job.events).some(
            (e: any) => e.message === 'tick 2',
          ),
        { timeout: 15_000 },
      )
      .toBe(true);
    const res = await t.gql(`mutation($id: ID!) { cancelJob(id: $id) { state } }`, { id });
    expect(res.errors).toBeUndefined();
    const job = await waitForJob(t, id, TERMINAL);
    expect(job.state).toBe('CANCELLED');
    const name = kubernetesJobName(id, 1);
    await expect
      .poll(() => kube.requests.find((r) => r.method === 'DELETE' && r.path.endsWith(`/jobs/${name}`)), { timeout: 5000 })
      .toBeTruthy();
    const del = kube.requests.find((r) => r.method === 'DELETE' && r.path.endsWith(`/jobs/${name}`))!;
    expect(del.path).toBe(`/apis/batch/v1/namespaces/autodev/jobs/${name}`);
    expect(del.query.propagationPolicy ?? del.body?.propagationPolicy).toBe('Background');
    expect(kube.jobs.has(name)).toBe(false);
    expect([...kube.pods.values()].some((p) => p.metadata!.labels!['job-name'] === name)).toBe(false);
    const grandchild = grandchildOf(job);
    await expect.poll(() => processAlive(grandchild), { timeout: 5000 }).toBe(false);
  });

  it('after a worker restart, Jobs it had started for attempts that are no longer running are deleted', async () => {
    const orphan = buildJobManifest({
      name: 'autodev-00000000-0000-4000-8000-000000000000-1',
      namespace: 'autodev',
      attemptId: '00000000-0000-4000-8000-0000000000aa',
      spec: { jobId: '00000000-0000-4000-8000-000000000000', attempt: 1 } as any,
      image: 'autodev-runner:test',
      command: ['node'],
      timeoutSeconds: 60,
      ttlSecondsAfterFinished: 600,
      resources: {},
      defaultResources: { cpu: '250m', memory: '384Mi' },
      secretEnv: [],
    });
    kube.addJob(orphan);
    await expect.poll(() => kube.jobs.has(orphan.metadata!.name!), { timeout: 10_000 }).toBe(false);
    const del = kube.requests.find((r) => r.method === 'DELETE' && r.path.endsWith(orphan.metadata!.name!));
    expect(del).toBeTruthy();
  });
});
