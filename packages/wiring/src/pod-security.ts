import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { type KubernetesObject, type PodTemplate, describe, podTemplates } from './manifests.js';

/**
 * The controls of the Pod Security Standards, "restricted" profile (which includes "baseline"),
 * as the API server's pod-security admission enforces them at `latest`:
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/
 * The namespace's pod-security.kubernetes.io/enforce label makes the cluster refuse what this
 * check would report; this lets a test say so before any cluster sees the manifests.
 */
export type PodSecurityControl =
  | 'HostProcess'
  | 'Host Namespaces'
  | 'Privileged Containers'
  | 'Capabilities'
  | 'HostPath Volumes'
  | 'Host Ports'
  | 'AppArmor'
  | 'SELinux'
  | '/proc Mount Type'
  | 'Seccomp'
  | 'Sysctls'
  | 'Volume Types'
  | 'Privilege Escalation'
  | 'Running as Non-root'
  | 'Running as Non-root user';

export interface PodSecurityViolation {
  /** `Deployment doc-intake/frontend`. */
  object: string;
  control: PodSecurityControl;
  /** Where, relative to the pod spec: `containers[frontend].securityContext.allowPrivilegeEscalation`. */
  path: string;
  message: string;
}

const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);
const SELINUX_TYPES = new Set([
  '',
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);
const SECCOMP_TYPES = new Set(['RuntimeDefault', 'Localhost']);
const APPARMOR_TYPES = new Set(['RuntimeDefault', 'Localhost']);

/** Every violation of "restricted" in the pod templates of these objects. */
export function checkRestricted(objects: readonly KubernetesObject[]): PodSecurityViolation[] {
  return podTemplates(objects).flatMap(checkTemplate);
}

interface NamedContainer {
  container: IContainer;
  path: string;
}

function checkTemplate(template: PodTemplate): PodSecurityViolation[] {
  const spec: IPodSpec = template.spec;
  const violations: PodSecurityViolation[] = [];
  const report = (control: PodSecurityControl, path: string, message: string): void => {
    violations.push({ object: describe(template.owner), control, path, message });
  };
  const pod = spec.securityContext ?? {};
  const containers: NamedContainer[] = [
    ...(spec.initContainers ?? []).map((c) => ({
      container: c,
      path: `initContainers[${c.name}]`,
    })),
    ...spec.containers.map((c) => ({ container: c, path: `containers[${c.name}]` })),
    ...(spec.ephemeralContainers ?? []).map((c) => ({
      container: c as IContainer,
      path: `ephemeralContainers[${c.name}]`,
    })),
  ];

  // Baseline.
  if (pod.windowsOptions?.hostProcess) {
    report('HostProcess', 'securityContext.windowsOptions.hostProcess', 'must not be true');
  }
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (spec[field]) report('Host Namespaces', field, 'must not be true');
  }
  for (const volume of spec.volumes ?? []) {
    if (volume.hostPath)
      report('HostPath Volumes', `volumes[${volume.name}]`, 'hostPath is forbidden');
    const type = Object.keys(volume).find((key) => key !== 'name');
    if (type && !RESTRICTED_VOLUME_TYPES.has(type)) {
      report('Volume Types', `volumes[${volume.name}]`, `${type} volumes are not allowed`);
    }
  }
  if (pod.appArmorProfile && !APPARMOR_TYPES.has(pod.appArmorProfile.type)) {
    report(
      'AppArmor',
      'securityContext.appArmorProfile.type',
      'must be RuntimeDefault or Localhost',
    );
  }
  for (const [key, value] of Object.entries(template.annotations)) {
    if (
      key.startsWith('container.apparmor.security.beta.kubernetes.io/') &&
      value !== 'runtime/default' &&
      !value.startsWith('localhost/')
    ) {
      report('AppArmor', `metadata.annotations[${key}]`, 'must be runtime/default or localhost/*');
    }
  }
  checkSeLinux(pod.seLinuxOptions, 'securityContext.seLinuxOptions', report);
  for (const sysctl of pod.sysctls ?? []) {
    if (!SAFE_SYSCTLS.has(sysctl.name)) {
      report('Sysctls', `securityContext.sysctls[${sysctl.name}]`, 'is not a safe sysctl');
    }
  }

  // Restricted, pod level: these may be set on the pod or on every container.
  if (pod.runAsNonRoot !== true) {
    for (const { container, path } of containers) {
      if (container.securityContext?.runAsNonRoot !== true) {
        report(
          'Running as Non-root',
          `${path}.securityContext.runAsNonRoot`,
          'must be true (on the pod or on the container)',
        );
      }
    }
  }
  if (pod.runAsUser === 0) {
    report('Running as Non-root user', 'securityContext.runAsUser', 'must not be 0');
  }
  if (pod.seccompProfile?.type === 'Unconfined') {
    report('Seccomp', 'securityContext.seccompProfile.type', 'must not be Unconfined');
  }
  const podSeccomp = pod.seccompProfile && SECCOMP_TYPES.has(pod.seccompProfile.type);

  for (const { container, path } of containers) {
    const context = container.securityContext ?? {};
    const at = `${path}.securityContext`;
    if (context.windowsOptions?.hostProcess) {
      report('HostProcess', `${at}.windowsOptions.hostProcess`, 'must not be true');
    }
    if (context.privileged) report('Privileged Containers', `${at}.privileged`, 'must not be true');
    for (const port of container.ports ?? []) {
      if (port.hostPort)
        report('Host Ports', `${path}.ports[${port.containerPort}].hostPort`, 'must be unset or 0');
    }
    if (context.appArmorProfile && !APPARMOR_TYPES.has(context.appArmorProfile.type)) {
      report('AppArmor', `${at}.appArmorProfile.type`, 'must be RuntimeDefault or Localhost');
    }
    checkSeLinux(context.seLinuxOptions, `${at}.seLinuxOptions`, report);
    if (context.procMount !== undefined && context.procMount !== 'Default') {
      report('/proc Mount Type', `${at}.procMount`, 'must be Default');
    }
    if (context.allowPrivilegeEscalation !== false) {
      report('Privilege Escalation', `${at}.allowPrivilegeEscalation`, 'must be false');
    }
    if (context.runAsNonRoot === false) {
      report('Running as Non-root', `${at}.runAsNonRoot`, 'must not be false');
    }
    if (context.runAsUser === 0) {
      report('Running as Non-root user', `${at}.runAsUser`, 'must not be 0');
    }
    if (context.seccompProfile?.type === 'Unconfined') {
      report('Seccomp', `${at}.seccompProfile.type`, 'must not be Unconfined');
    } else if (
      !podSeccomp &&
      !(context.seccompProfile && SECCOMP_TYPES.has(context.seccompProfile.type))
    ) {
      report(
        'Seccomp',
        `${at}.seccompProfile.type`,
        'must be RuntimeDefault or Localhost (on the pod or on the container)',
      );
    }
    const capabilities = context.capabilities ?? {};
    if (!(capabilities.drop ?? []).includes('ALL')) {
      report('Capabilities', `${at}.capabilities.drop`, 'must include ALL');
    }
    for (const added of capabilities.add ?? []) {
      if (added !== 'NET_BIND_SERVICE') {
        report(
          'Capabilities',
          `${at}.capabilities.add`,
          `may only add NET_BIND_SERVICE, not ${added}`,
        );
      }
    }
  }
  return violations;
}

function checkSeLinux(
  options: { type?: string; user?: string; role?: string } | undefined,
  path: string,
  report: (control: PodSecurityControl, path: string, message: string) => void,
): void {
  if (!options) return;
  if (options.type !== undefined && !SELINUX_TYPES.has(options.type)) {
    report('SELinux', `${path}.type`, `${options.type} is not an allowed type`);
  }
  if (options.user) report('SELinux', `${path}.user`, 'must be unset');
  if (options.role) report('SELinux', `${path}.role`, 'must be unset');
}
