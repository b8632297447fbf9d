import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { buildJobManifest, MANAGED_SELECTOR } from '../server/engine/executors/kubernetes-job-manifest.ts';

const dir = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));
const yamlFiles = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

function load(file: string): any[] {
  return parseAllDocuments(readFileSync(dir + file, 'utf8')).map((doc) => {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS();
  });
}
const objects = yamlFiles.flatMap((file) => load(file).map((o) => ({ file, o })));
const byKind = (kind: string) => objects.filter(({ o }) => o.kind === kind).map(({ o }) => o);
const podSpecs = objects
  .filter(({ o }) => ['Deployment', 'Job'].includes(o.kind))
  .map(({ file, o }) => ({ name: `${file}: ${o.kind} ${o.metadata.name}`, spec: o.spec.template.spec, labels: o.spec.template.metadata?.labels, o }));

describe('k8s/ manifests', () => {
  it('every file parses; every object has apiVersion, kind and a name; the kustomization lists every applied file', () => {
    expect(yamlFiles.length).toBeGreaterThanOrEqual(9);
    for (const { file, o } of objects) {
      expect(o.apiVersion, file).toEqual(expect.any(String));
      expect(o.kind, file).toEqual(expect.any(String));
      if (o.kind !== 'Kustomization') expect(o.metadata?.name, `${file} ${o.kind}`).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    }
    const [kustomization] = load('kustomization.yaml');
    const notApplied = ['kustomization.yaml', 'secrets.example.yaml', 'runner-job.example.yaml'];
    expect([...kustomization.resources].sort()).toEqual(yamlFiles.filter((f) => !notApplied.includes(f)));
  });

  it('every pod runs as non-root with a read-only root filesystem, no capabilities, RuntimeDefault seccomp and resource limits', () => {
    expect(podSpecs.map((p) => p.name)).toHaveLength(4); // api, worker, migrate, the runner Job example
    for (const { name, spec } of podSpecs) {
      expect(spec.securityContext, name).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(spec.securityContext.runAsUser, name).toBeGreaterThan(0);
      expect(spec.hostNetwork ?? false, name).toBe(false);
      expect(spec.hostPID ?? false, name).toBe(false);
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
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
        expect(c.image, at).toMatch(/^[\w./-]+:[\w.-]+$/); // a tag, never an implicit :latest
        // A read-only root filesystem needs somewhere to write: /tmp is an emptyDir.
        const tmp = c.volumeMounts?.find((m: any) => m.mountPath === '/tmp');
        expect(spec.volumes.find((v: any) => v.name === tmp?.name)?.emptyDir, at).toBeDefined();
      }
      // Only the worker talks to the Kubernetes API.
      const expectToken = name.includes('Deployment autodev-worker');
      expect(spec.automountServiceAccountToken, name).toBe(expectToken);
    }
  });

  it('the runner Job example and the executor agree on every security setting', () => {
    const [example] = load('runner-job.example.yaml');
    const built = JSON.parse(
      JSON.stringify(
        buildJobManifest({
          name: example.metadata.name,
          namespace: 'autodev',
          attemptId: example.metadata.labels['autodev.dev/attempt-id'],
          spec: { jobId: example.metadata.labels['autodev.dev/job-id'], attempt: 1 } as any,
          image: 'ghcr.io/example/autodev:0.1.0',
          command: ['node', '--import', 'tsx', 'server/runner/main.ts'],
          timeoutSeconds: 600,
          ttlSecondsAfterFinished: 3600,
          resources: {},
          defaultResources: { cpu: '500m', memory: '512Mi' },
          secretEnv: ['AUTODEV_MODEL_API_KEY'],
          secretName: 'autodev-runner',
        }),
      ),
    );
    const strip = (job: any) => {
      const c = job.spec.template.spec.containers[0];
      return { ...job, spec: { ...job.spec, template: { ...job.spec.template, spec: { ...job.spec.template.spec, containers: [{ ...c, env: c.env.map((e: any) => e.name) }] } } } };
    };
    expect(strip(example)).toEqual(strip(built));
  });

  it('the worker may only manage Jobs, read pods and their logs, in its namespace; the API gets no token', () => {
    const [role] = byKind('Role');
    expect(role.rules).toEqual([
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
    ]);
    expect(byKind('ClusterRole')).toEqual([]);
    expect(byKind('ClusterRoleBinding')).toEqual([]);
    const [binding] = byKind('RoleBinding');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'autodev-worker' }]);
    const worker = podSpecs.find((p) => p.name.includes('Deployment autodev-worker'))!;
    expect(worker.spec.serviceAccountName).toBe('autodev-worker');
    const api = byKind('ServiceAccount').find((s) => s.metadata.name === 'autodev-api');
    expect(api.automountServiceAccountToken).toBe(false);
  });

  it('Deployments probe /healthz and /readyz; PDBs, the Service and the HPA select what exists; runner pods are fenced by a NetworkPolicy', () => {
    for (const d of byKind('Deployment')) {
      const c = d.spec.template.spec.containers[0];
      expect(c.livenessProbe.httpGet.path, d.metadata.name).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path, d.metadata.name).toBe('/readyz');
      expect(d.spec.selector.matchLabels).toEqual(d.spec.template.metadata.labels);
      expect(c.env.find((e: any) => e.name === 'AUTODEV_ROLE').value).toBe(d.metadata.name.replace('autodev-', ''));
      const pdb = byKind('PodDisruptionBudget').find((p) => p.metadata.name === d.metadata.name);
      expect(pdb?.spec.selector.matchLabels, d.metadata.name).toEqual(d.spec.selector.matchLabels);
    }
    const [service] = byKind('Service');
    expect(service.spec.selector).toEqual(byKind('Deployment').find((d) => d.metadata.name === 'autodev-api').spec.selector.matchLabels);
    const [hpa] = byKind('HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'autodev-api' });
    const [policy] = byKind('NetworkPolicy');
    const selector = Object.fromEntries(MANAGED_SELECTOR.split(',').map((kv) => kv.split('=')));
    expect(policy.spec.podSelector.matchLabels).toEqual(selector);
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toEqual([]);
    const ports = policy.spec.egress.flatMap((r: any) => r.ports.map((p: any) => `${p.protocol}/${p.port}`));
    expect(ports.sort()).toEqual(['TCP/443', 'TCP/53', 'UDP/53']);
  });

  it('Prometheus scrapes every Deployment on the metrics port the configuration sets, which no Service exposes', () => {
    const [configMap] = byKind('ConfigMap');
    const metricsPort = Number(configMap.data.AUTODEV_METRICS_PORT);
    expect(metricsPort).toBeGreaterThan(0);
    for (const d of byKind('Deployment')) {
      const annotations = d.spec.template.metadata.annotations ?? {};
      expect(annotations, d.metadata.name).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(metricsPort), 'prometheus.io/path': '/metrics' });
      const ports = d.spec.template.spec.containers[0].ports;
      expect(ports.find((p: any) => p.containerPort === metricsPort)?.name, d.metadata.name).toBe('metrics');
      expect(d.spec.template.spec.containers[0].envFrom).toContainEqual({ configMapRef: { name: configMap.metadata.name } });
    }
    for (const service of byKind('Service')) {
      for (const port of service.spec.ports) {
        expect([port.port, port.targetPort]).not.toContain(metricsPort);
        expect(port.targetPort).not.toBe('metrics');
      }
    }
  });

  it('the configuration names only settings AutoDev reads; S3 lifecycle and versioning are valid configuration', () => {
    const [configMap] = byKind('ConfigMap');
    const configSource = readFileSync(root + 'server/config.ts', 'utf8');
    for (const key of Object.keys(configMap.data)) expect(configSource, key).toContain(key === 'NODE_ENV' ? 'NODE_ENV' : `env.${key}`);
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
  it('compose parses and has the services the README names, each with an image', () => {
    const compose = parse(readFileSync(root + 'docker-compose.yml', 'utf8'), { merge: true });
    const services = Object.keys(compose.services).sort();
    expect(services).toEqual(['api', 'create-bucket', 'migrate', 'minio', 'postgres', 'redis', 'worker']);
    for (const [name, s] of Object.entries<any>(compose.services)) expect(s.image, name).toEqual(expect.any(String));
    expect(compose.services.api.environment.AUTODEV_ROLE).toBe('api');
    expect(compose.services.worker.environment.AUTODEV_ROLE).toBe('worker');
    expect(compose.services.api.environment.AUTODEV_ARTIFACT_STORE).toBe('s3');
    const readme = readFileSync(root + 'README.md', 'utf8');
    const line = readme.split('\n').find((l) => l.includes('docker compose up'));
    for (const name of ['postgres', 'redis', 'minio', 'api', 'worker']) expect(line, `README's docker compose line names ${name}`).toContain(name);
  });

  it('the Dockerfile runs as a non-root user and starts the server', () => {
    const dockerfile = readFileSync(root + 'Dockerfile', 'utf8');
    expect(dockerfile).toMatch(/^USER 10001:10001$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "--import", "tsx", "server\/main.ts"\]$/m);
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
