import {
  type KubernetesObject,
  type RenderedOverlay,
  type IHorizontalPodAutoscaler,
  type IIngress,
  type IPodDisruptionBudget,
  type IService,
} from '@wi/wiring';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Endpoint, isAllowed } from './support/network-policy.js';
import {
  container,
  deployment,
  envValue,
  get,
  podSpec,
  renderOverlays,
  skipKubectlTests,
} from './support/k8s.js';

const SERVICES = [
  { name: 'frontend', port: 3000 },
  { name: 'backend', port: 3001 },
] as const;

describe.skipIf(skipKubectlTests)('hardening and availability of the rendered workloads', () => {
  let overlays: RenderedOverlay[];
  const objectsOf = (name: string) => overlays.find((overlay) => overlay.overlay === name)!.objects;
  beforeAll(() => {
    overlays = renderOverlays();
  });

  describe.each(['aks', 'local'])('%s overlay', (overlay) => {
    let objects: KubernetesObject[];
    beforeAll(() => {
      objects = objectsOf(overlay);
    });

    it.each(SERVICES)('$name: own ServiceAccount, no Kubernetes API token', ({ name }) => {
      const spec = podSpec(objects, name);
      expect(spec.serviceAccountName).toBe(name);
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(get(objects, 'ServiceAccount', name).automountServiceAccountToken).toBe(false);
    });

    it.each(SERVICES)(
      '$name: fixed non-root uid, read-only root, /tmp on an emptyDir',
      ({ name }) => {
        const spec = podSpec(objects, name);
        expect(spec.securityContext?.runAsUser).toBeGreaterThan(0);
        expect(spec.securityContext?.runAsGroup).toBeGreaterThan(0);
        const c = container(objects, name);
        expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
        const tmp = c.volumeMounts?.find((mount) => mount.mountPath === '/tmp');
        expect(tmp, 'a /tmp mount').toBeDefined();
        expect(spec.volumes?.find((volume) => volume.name === tmp!.name)?.emptyDir).toBeDefined();
      },
    );

    it.each(SERVICES)('$name: CPU and memory requests and limits', ({ name }) => {
      const { resources } = container(objects, name);
      for (const kind of ['requests', 'limits'] as const) {
        expect(resources?.[kind]?.cpu, `${kind}.cpu`).toBeDefined();
        expect(resources?.[kind]?.memory, `${kind}.memory`).toBeDefined();
      }
    });

    it.each(SERVICES)(
      '$name: probes on the health endpoints of the port it listens on',
      ({ name, port }) => {
        const c = container(objects, name);
        expect(envValue(c, 'PORT')).toBe(String(port));
        expect(c.ports).toEqual([{ name: 'http', containerPort: port, protocol: 'TCP' }]);
        expect(c.startupProbe?.httpGet).toEqual({ path: '/healthz/live', port: 'http' });
        expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz/live', port: 'http' });
        expect(c.readinessProbe?.httpGet).toEqual({ path: '/healthz/ready', port: 'http' });
        // Readiness probes Azure: give it the few seconds that can take.
        expect(c.readinessProbe?.timeoutSeconds).toBeGreaterThanOrEqual(5);
      },
    );

    it('backend: the grace period outlasts preStop plus the worker drain', () => {
      const spec = podSpec(objects, 'backend');
      const c = container(objects, 'backend');
      const drainSeconds = Number(envValue(c, 'WORKER_DRAIN_TIMEOUT_MS')) / 1000;
      const preStop = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
      expect(drainSeconds).toBe(25);
      expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(preStop + drainSeconds + 5);
    });

    it('frontend: BACKEND_URL is the backend Service and its port', () => {
      const service = get(objects, 'Service', 'backend') as unknown as IService;
      const url = new URL(envValue(container(objects, 'frontend'), 'BACKEND_URL')!);
      expect(url.hostname.split('.')[0]).toBe(service.metadata?.name);
      expect(Number(url.port)).toBe(service.spec?.ports?.[0]?.port);
    });

    it.each(SERVICES)(
      '$name: a Service and a PodDisruptionBudget that select its pods',
      ({ name, port }) => {
        const podLabels = deployment(objects, name).spec!.template.metadata!.labels!;
        const service = get(objects, 'Service', name) as unknown as IService;
        expect(podLabels).toMatchObject(service.spec!.selector!);
        expect(service.spec!.ports).toEqual([
          { name: 'http', port, targetPort: 'http', protocol: 'TCP' },
        ]);
        const pdb = get(objects, 'PodDisruptionBudget', name) as unknown as IPodDisruptionBudget;
        expect(podLabels).toMatchObject(pdb.spec!.selector!.matchLabels!);
        expect(pdb.spec!.maxUnavailable).toBe(1);
      },
    );

    it('backend: the autoscaler owns the replica count', () => {
      const hpa = get(
        objects,
        'HorizontalPodAutoscaler',
        'backend',
      ) as unknown as IHorizontalPodAutoscaler;
      expect(hpa.spec.scaleTargetRef).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'backend',
      });
      expect(deployment(objects, 'backend').spec!.replicas).toBeUndefined();
      expect(hpa.spec.minReplicas).toBeLessThanOrEqual(hpa.spec.maxReplicas);
    });

    it('ingress: routes to the frontend and admits a full-size upload', () => {
      const ingress = get(objects, 'Ingress', 'frontend') as unknown as IIngress;
      expect(ingress.spec!.rules![0]!.http!.paths[0]!.backend.service).toEqual({
        name: 'frontend',
        port: { name: 'http' },
      });
      const bodySize =
        ingress.metadata!.annotations!['nginx.ingress.kubernetes.io/proxy-body-size']!;
      const maxUpload = Number(
        envValue(container(objects, 'frontend'), 'MAX_UPLOAD_BYTES') ?? 10 * 1024 * 1024,
      );
      expect(Number.parseInt(bodySize, 10) * 1024 * 1024).toBeGreaterThan(maxUpload);
    });
  });

  it('aks: at least two of each, so a drain or rollout keeps both services up', () => {
    const objects = objectsOf('aks');
    expect(deployment(objects, 'frontend').spec!.replicas).toBeGreaterThanOrEqual(2);
    const hpa = get(
      objects,
      'HorizontalPodAutoscaler',
      'backend',
    ) as unknown as IHorizontalPodAutoscaler;
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(
      (get(objects, 'Ingress', 'frontend') as unknown as IIngress).spec!.ingressClassName,
    ).toBe('webapprouting.kubernetes.azure.com');
  });

  describe('network policies allow exactly the flows the app needs (aks)', () => {
    const pod = (
      name: string,
      namespace = 'doc-intake',
      labels?: Record<string, string>,
    ): Endpoint => ({
      pod: {
        namespace,
        labels: labels ?? { 'app.kubernetes.io/name': name },
        ports: { http: name === 'frontend' ? 3000 : 3001 },
      },
    });
    const frontend = pod('frontend');
    const backend = pod('backend');
    const ingressController = pod('nginx', 'app-routing-system', { app: 'nginx' });
    const dns = pod('coredns', 'kube-system', { 'k8s-app': 'kube-dns' });
    const azure: Endpoint = { ip: '20.60.1.1' };
    const stranger = pod('debug', 'doc-intake', { run: 'debug' });
    const otherNamespace = pod('frontend', 'default');

    const flows: [string, Endpoint, Endpoint, number, 'TCP' | 'UDP', boolean][] = [
      ['ingress controller -> frontend', ingressController, frontend, 3000, 'TCP', true],
      ['ingress controller -> backend', ingressController, backend, 3001, 'TCP', false],
      ['frontend -> backend API', frontend, backend, 3001, 'TCP', true],
      ['backend -> frontend', backend, frontend, 3000, 'TCP', false],
      ['frontend -> DNS (UDP)', frontend, dns, 53, 'UDP', true],
      ['backend -> DNS (TCP)', backend, dns, 53, 'TCP', true],
      ['frontend -> Azure HTTPS', frontend, azure, 443, 'TCP', true],
      ['backend -> Azure HTTPS', backend, azure, 443, 'TCP', true],
      ['backend -> Service Bus AMQP', backend, azure, 5671, 'TCP', true],
      ['frontend -> Service Bus AMQP', frontend, azure, 5671, 'TCP', true],
      ['backend -> internet on HTTP', backend, azure, 80, 'TCP', false],
      ['another pod in the namespace -> backend', stranger, backend, 3001, 'TCP', false],
      ['another pod in the namespace -> Azure', stranger, azure, 443, 'TCP', false],
      ['a pod in another namespace -> frontend', otherNamespace, frontend, 3000, 'TCP', false],
      ['internet -> backend directly', azure, backend, 3001, 'TCP', false],
    ];

    it.each(flows)('%s: %s', (_, from, to, port, protocol, allowed) => {
      expect(isAllowed(objectsOf('aks'), { from, to, port, protocol })).toBe(allowed);
    });

    it('local: the local cloud ports instead of Azure, and ingress-nginx instead of the add-on', () => {
      const objects = objectsOf('local');
      const host: Endpoint = { ip: '192.168.65.254' };
      expect(isAllowed(objects, { from: backend, to: host, port: 8081 })).toBe(true);
      expect(isAllowed(objects, { from: frontend, to: host, port: 4443 })).toBe(true);
      expect(isAllowed(objects, { from: backend, to: host, port: 443 })).toBe(false);
      const nginx = pod('nginx', 'ingress-nginx', { app: 'nginx' });
      expect(isAllowed(objects, { from: nginx, to: frontend, port: 3000 })).toBe(true);
      expect(isAllowed(objects, { from: ingressController, to: frontend, port: 3000 })).toBe(false);
    });
  });
});
