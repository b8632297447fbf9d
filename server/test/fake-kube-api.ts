// A local HTTP server speaking the part of the Kubernetes API the Kubernetes executor uses
// (batch/v1 Jobs: create, get, list, watch, delete; core/v1 Pods: list, watch, follow logs), with
// a stand-in kubelet that runs each Job's container as a local process. No real cluster exists on
// these machines; this is what the executor is tested against (see README).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { groupAlive, killGroup } from '../engine/executors/kill-group.ts';

export interface FakeKubeOptions {
  /** Directory the container's command runs in (stands in for the image's working directory). */
  cwd: string;
  /** Images whose container runs this local command instead of the container's own command. */
  entrypoints?: Record<string, string[]>;
  /** Secret name → key → value, for secretKeyRef. */
  secrets?: Record<string, Record<string, string>>;
  /** Images the fake registry does not have (their pods stay in ErrImagePull/ImagePullBackOff). */
  missingImages?: string[];
  /** Images whose container is killed as OOMKilled once it has written its first line. */
  oomImages?: string[];
  /** Images whose log streams the server closes after the first chunk, while the container runs on. */
  cutLogImages?: string[];
}

type Watcher = { kind: 'jobs' | 'pods'; match: (o: any) => boolean; res: http.ServerResponse };

export async function startFakeKubeApi(opts: FakeKubeOptions) {
  const jobs = new Map<string, V1Job>();
  const pods = new Map<string, V1Pod>();
  const podLogs = new Map<string, { chunks: Buffer[]; done: boolean; followers: Set<http.ServerResponse> }>();
  const processes = new Map<string, ChildProcess>();
  /** Every container started (its process group id), to prove none outlives the fake. */
  const containerGroups = new Set<number>();
  const watchers = new Set<Watcher>();
  const requests: { method: string; path: string; query: Record<string, string>; body?: any; authorization?: string }[] = [];
  let resourceVersion = 1;

  const stamp = (o: any) => {
    o.metadata.resourceVersion = String(++resourceVersion);
    return o;
  };
  const emit = (kind: 'jobs' | 'pods', type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: any) => {
    for (const w of watchers) if (w.kind === kind && w.match(obj)) w.res.write(JSON.stringify({ type, object: obj }) + '\n');
  };
  const selector = (query: Record<string, string>) => {
    const labels = (query.labelSelector ?? '')
      .split(',')
      .filter(Boolean)
      .map((p) => p.split('='));
    const fields = (query.fieldSelector ?? '')
      .split(',')
      .filter(Boolean)
      .map((p) => p.split('='));
    return (o: any) =>
      labels.every(([k, v]) => o.metadata?.labels?.[k] === v) &&
      fields.every(([k, v]) => (k === 'metadata.name' ? o.metadata?.name === v : true));
  };
  const setJobCondition = (job: V1Job, type: 'Complete' | 'Failed', reason: string, message: string) => {
    job.status ??= {};
    job.status.conditions = [{ type, status: 'True', reason, message, lastTransitionTime: new Date() }];
    if (type === 'Failed') job.status.failed = 1;
    else job.status.succeeded = 1;
    emit('jobs', 'MODIFIED', stamp(job));
  };
  const setPod = (pod: V1Pod, phase: string, runner: any) => {
    pod.status = {
      phase,
      containerStatuses: [
        {
          name: 'runner',
          image: pod.spec!.containers[0].image,
          ready: !!runner.running,
          restartCount: 0,
          imageID: '',
          state: runner,
        } as any,
      ],
    };
    emit('pods', 'MODIFIED', stamp(pod));
  };
  const appendLog = (podName: string, chunk: Buffer) => {
    const log = podLogs.get(podName)!;
    log.chunks.push(chunk);
    for (const f of log.followers) f.write(chunk);
  };
  const endLog = (podName: string) => {
    const log = podLogs.get(podName);
    if (!log || log.done) return;
    log.done = true;
    for (const f of log.followers) f.end();
    log.followers.clear();
  };

  /** The stand-in kubelet: pull the image, run the container, report its end. */
  const startPod = (job: V1Job) => {
    const podName = `${job.metadata!.name}-${randomUUID().slice(0, 5)}`;
    const tmpl = job.spec!.template;
    const container = tmpl.spec!.containers[0];
    const pod: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace: job.metadata!.namespace,
        uid: randomUUID(),
        labels: { ...tmpl.metadata?.labels, 'job-name': job.metadata!.name!, 'batch.kubernetes.io/job-name': job.metadata!.name! },
      },
      spec: tmpl.spec,
      status: { phase: 'Pending' },
    };
    pods.set(podName, pod);
    podLogs.set(podName, { chunks: [], done: false, followers: new Set() });
    emit('pods', 'ADDED', stamp(pod));
    if (opts.missingImages?.includes(container.image!)) {
      setTimeout(
        () => setPod(pod, 'Pending', { waiting: { reason: 'ErrImagePull', message: `pull access denied for ${container.image}` } }),
        50,
      );
      setTimeout(
        () => setPod(pod, 'Pending', { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${container.image}"` } }),
        150,
      );
      return;
    }
    const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) {
        const value = opts.secrets?.[ref.name!]?.[ref.key];
        if (value !== undefined) env[e.name] = value;
        else if (!ref.optional) {
          setPod(pod, 'Pending', { waiting: { reason: 'CreateContainerConfigError', message: `secret "${ref.name}" not found` } });
          return;
        }
      }
    }
    const [cmd, ...args] = opts.entrypoints?.[container.image!] ?? container.command!;
    // A container is a process group: what its process starts dies with it, as in a pod.
    const child = spawn(cmd === 'node' ? process.execPath : cmd, args, {
      cwd: opts.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    processes.set(podName, child);
    containerGroups.add(child.pid!);
    child.on('exit', () => killGroup(child.pid!, 'SIGKILL'));
    const startedAt = new Date();
    setPod(pod, 'Running', { running: { startedAt } });
    let oomKilled = false;
    const oom = opts.oomImages?.includes(container.image!);
    const onOutput = (chunk: Buffer) => {
      appendLog(podName, chunk);
      if (opts.cutLogImages?.includes(container.image!)) {
        const log = podLogs.get(podName)!;
        for (const f of log.followers) f.end();
        log.followers.clear();
      }
      if (oom && !oomKilled) {
        oomKilled = true;
        killGroup(child.pid!, 'SIGKILL');
      }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    const deadline = job.spec!.activeDeadlineSeconds
      ? setTimeout(() => {
          killGroup(child.pid!, 'SIGTERM');
          (job as any).deadlineExceeded = true;
        }, job.spec!.activeDeadlineSeconds * 1000)
      : undefined;
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      processes.delete(podName);
      endLog(podName);
      if (!jobs.has(job.metadata!.name!)) return;
      const exitCode = code ?? (signal === 'SIGKILL' ? 137 : 143);
      const reason = oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
      setPod(pod, exitCode === 0 ? 'Succeeded' : 'Failed', { terminated: { exitCode, reason, startedAt, finishedAt: new Date() } });
      if ((job as any).deadlineExceeded)
        setJobCondition(job, 'Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline');
      else if (exitCode === 0) setJobCondition(job, 'Complete', 'Completed', '');
      else setJobCondition(job, 'Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    });
  };

  const deleteJob = (name: string) => {
    const job = jobs.get(name)!;
    jobs.delete(name);
    emit('jobs', 'DELETED', job);
    for (const [podName, pod] of pods) {
      if (pod.metadata!.labels!['job-name'] !== name) continue;
      const child = processes.get(podName);
      if (child) killGroup(child.pid!, 'SIGKILL');
      endLog(podName);
      pods.delete(podName);
      emit('pods', 'DELETED', pod);
    }
  };

  const send = (res: http.ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const status = (res: http.ServerResponse, code: number, reason: string, message: string) =>
    send(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code });

  const answer = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url!, 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = raw ? JSON.parse(raw) : undefined;
    requests.push({ method: req.method!, path: url.pathname, query, body, authorization: req.headers.authorization });
    const m = /^\/(?:apis\/batch\/v1|api\/v1)\/namespaces\/([^/]+)\/(jobs|pods)(?:\/([^/]+))?(\/log)?$/.exec(url.pathname);
    if (!m) return status(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
    const [, namespace, kind, name, log] = m;
    const store: Map<string, any> = kind === 'jobs' ? jobs : pods;
    const inNs = (o: any) => o.metadata.namespace === namespace;

    if (req.method === 'GET' && !name && query.watch === 'true') {
      const match = selector(query);
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      for (const o of store.values()) if (inNs(o) && match(o)) res.write(JSON.stringify({ type: 'ADDED', object: o }) + '\n');
      const w: Watcher = { kind: kind as 'jobs' | 'pods', match: (o) => inNs(o) && match(o), res };
      watchers.add(w);
      req.socket.on('close', () => watchers.delete(w));
      return;
    }
    if (req.method === 'GET' && !name) {
      const match = selector(query);
      return send(res, 200, {
        kind: kind === 'jobs' ? 'JobList' : 'PodList',
        apiVersion: kind === 'jobs' ? 'batch/v1' : 'v1',
        metadata: { resourceVersion: String(resourceVersion) },
        items: [...store.values()].filter((o) => inNs(o) && match(o)),
      });
    }
    if (req.method === 'GET' && kind === 'pods' && log) {
      const logState = podLogs.get(name);
      if (!logState) return status(res, 404, 'NotFound', `pods "${name}" not found`);
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (const c of logState.chunks) res.write(c);
      if (query.follow === 'true' && !logState.done) {
        logState.followers.add(res);
        req.socket.on('close', () => logState.followers.delete(res));
      } else res.end();
      return;
    }
    if (req.method === 'GET') {
      const o = store.get(name);
      return o && inNs(o) ? send(res, 200, o) : status(res, 404, 'NotFound', `${kind} "${name}" not found`);
    }
    if (req.method === 'POST' && kind === 'jobs' && !name) {
      const job = body as V1Job;
      if (!job?.metadata?.name) return status(res, 422, 'Invalid', 'metadata.name: Required value');
      if (jobs.has(job.metadata.name)) return status(res, 409, 'AlreadyExists', `jobs.batch "${job.metadata.name}" already exists`);
      job.metadata.namespace = namespace;
      job.metadata.uid = randomUUID();
      job.metadata.creationTimestamp = new Date();
      job.status = { active: 1 };
      jobs.set(job.metadata.name, job);
      emit('jobs', 'ADDED', stamp(job));
      setTimeout(() => jobs.has(job.metadata!.name!) && startPod(job), 20);
      return send(res, 201, job);
    }
    if (req.method === 'DELETE' && kind === 'jobs' && name) {
      if (!jobs.has(name)) return status(res, 404, 'NotFound', `jobs.batch "${name}" not found`);
      deleteJob(name);
      return send(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name, kind: 'jobs' } });
    }
    return status(res, 405, 'MethodNotAllowed', `${req.method} is not supported here`);
  };
  const server = http.createServer((req, res) => {
    answer(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else status(res, 500, 'InternalError', `the fake API server failed: ${String(err)}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'worker', token: 'fake-service-account-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'worker', namespace: 'autodev' }],
    currentContext: 'fake',
  });
  return {
    url,
    kubeConfig,
    jobs,
    pods,
    requests,
    /** Adds a Job as if a worker that has since died had created it (no pod is started). */
    addJob(job: V1Job) {
      job.metadata!.uid = randomUUID();
      job.status = { active: 1 };
      jobs.set(job.metadata!.name!, stamp(job));
    },
    /** Container process groups that still have a live process. */
    liveContainerGroups: () => [...containerGroups].filter(groupAlive),
    /** Stops every container; refuses to report closed while a container's process lives on. */
    async close() {
      for (const pid of containerGroups) killGroup(pid, 'SIGKILL');
      for (let i = 0; i < 50 && [...containerGroups].some(groupAlive); i++) await new Promise((r) => setTimeout(r, 100));
      const left = [...containerGroups].filter(groupAlive);
      if (left.length > 0) throw new Error(`fake kubelet: container process groups still alive after SIGKILL: ${left.join(', ')}`);
      for (const w of watchers) w.res.end();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
