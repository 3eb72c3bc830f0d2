import {
  type KubernetesObject,
  type RenderedOverlay,
  checkRestricted,
  type IPodSpec,
} from '@wi/wiring';
import { identitiesWith } from '@wi/identities';
import { beforeAll, describe, expect, it } from 'vitest';
import { copy, get, identities, podSpec, renderOverlays, skipKubectlTests } from './support/k8s.js';

/** The declaration's services: one Deployment each. */
const workloads = identitiesWith(identities).identities.map((identity) => identity.service);

type Mutation = (spec: IPodSpec) => void;
const main = (spec: IPodSpec) => spec.containers[0]!;

/**
 * One field removed or weakened at a time, each with the control of the restricted profile that
 * must then fail: proof that the check is not vacuous and that every field we set is load-bearing.
 */
const mutations: [string, Mutation, string][] = [
  ['runAsNonRoot removed', (s) => delete s.securityContext!.runAsNonRoot, 'Running as Non-root'],
  [
    'runAsUser set to 0',
    (s) => void (s.securityContext!.runAsUser = 0),
    'Running as Non-root user',
  ],
  ['seccompProfile removed', (s) => delete s.securityContext!.seccompProfile, 'Seccomp'],
  [
    'seccompProfile Unconfined',
    (s) => void (s.securityContext!.seccompProfile = { type: 'Unconfined' }),
    'Seccomp',
  ],
  [
    'allowPrivilegeEscalation removed',
    (s) => delete main(s).securityContext!.allowPrivilegeEscalation,
    'Privilege Escalation',
  ],
  [
    'capabilities.drop removed',
    (s) => delete main(s).securityContext!.capabilities,
    'Capabilities',
  ],
  [
    'a capability added',
    (s) => void (main(s).securityContext!.capabilities!.add = ['NET_ADMIN']),
    'Capabilities',
  ],
  ['privileged', (s) => void (main(s).securityContext!.privileged = true), 'Privileged Containers'],
  ['hostNetwork', (s) => void (s.hostNetwork = true), 'Host Namespaces'],
  ['a hostPort', (s) => void (main(s).ports![0]!.hostPort = 8080), 'Host Ports'],
  [
    'a hostPath volume',
    (s) => void s.volumes!.push({ name: 'host', hostPath: { path: '/var/run' } }),
    'HostPath Volumes',
  ],
  [
    'a gitRepo volume (not in the restricted list)',
    (s) => void s.volumes!.push({ name: 'repo', gitRepo: { repository: 'x' } }),
    'Volume Types',
  ],
  [
    'an unsafe sysctl',
    (s) => void (s.securityContext!.sysctls = [{ name: 'kernel.msgmax', value: '1' }]),
    'Sysctls',
  ],
];

describe.skipIf(skipKubectlTests)('Pod Security Standard "restricted"', () => {
  let overlays: RenderedOverlay[];
  beforeAll(() => {
    overlays = renderOverlays();
  });

  it.each(['aks', 'local'])('holds for every pod template of the %s overlay', (name) => {
    const { objects } = overlays.find((overlay) => overlay.overlay === name)!;
    expect(objects.filter((o) => o.kind === 'Deployment')).toHaveLength(workloads.length);
    expect(checkRestricted(objects)).toEqual([]);
  });

  it('is enforced by the namespace too, so the API server refuses what this test would', () => {
    const labels = get(overlays[0]!.objects, 'Namespace', 'doc-intake').metadata?.labels;
    expect(labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
    });
  });

  describe.each(workloads)('fails for %s when', (service) => {
    it.each(mutations)('%s', (_, mutate, control) => {
      const objects = copy(overlays[0]!.objects);
      mutate(podSpec(objects, service));
      const violations = checkRestricted(objects);
      expect(violations.map((v) => v.control)).toContain(control);
      expect(violations.every((v) => v.object === `Deployment doc-intake/${service}`)).toBe(true);
    });
  });

  it('still holds once the workload identity webhook has mutated the pod', () => {
    // What the webhook adds: a projected token volume, its mount and four variables. A pod
    // built from our template plus these must still be admitted by the restricted namespace.
    const objects = copy(overlays[0]!.objects);
    const spec = podSpec(objects, 'backend');
    spec.volumes!.push({
      name: 'azure-identity-token',
      projected: {
        sources: [
          {
            serviceAccountToken: {
              path: 'azure-identity-token',
              audience: 'api://AzureADTokenExchange',
              expirationSeconds: 3600,
            },
          },
        ],
      },
    });
    spec.containers[0]!.volumeMounts!.push({
      name: 'azure-identity-token',
      mountPath: '/var/run/secrets/azure/tokens',
      readOnly: true,
    });
    const pod: KubernetesObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'backend-mutated', namespace: 'doc-intake' },
      spec,
    };
    expect(checkRestricted([pod])).toEqual([]);
  });
});
