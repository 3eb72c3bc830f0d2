import { type ServiceIdentity, usedResourceName } from '@wi/identities';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { type KubernetesObject, type PodTemplate, describe, findObject } from './manifests.js';

/**
 * A container's environment as the kubelet builds it from the manifest: envFrom first (each
 * ConfigMap's keys, with its prefix), then env, whose entries win. A value the manifest cannot
 * show (from a Secret, a field, a resource) is `undefined`: present, but not comparable.
 */
export function containerEnvironment(
  objects: readonly KubernetesObject[],
  namespace: string | undefined,
  container: IContainer,
): Map<string, { value: string | undefined; from: string }> {
  const env = new Map<string, { value: string | undefined; from: string }>();
  const configMap = (name: string) =>
    findObject(objects, 'ConfigMap', namespace, name) as
      (KubernetesObject & { data?: Record<string, string> }) | undefined;
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef?.name) {
      const map = configMap(source.configMapRef.name);
      for (const [key, value] of Object.entries(map?.data ?? {})) {
        env.set(`${source.prefix ?? ''}${key}`, {
          value,
          from: `ConfigMap ${source.configMapRef.name}`,
        });
      }
    }
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.configMapKeyRef;
    if (variable.valueFrom === undefined) {
      env.set(variable.name, { value: variable.value ?? '', from: 'env' });
    } else if (ref?.name) {
      env.set(variable.name, {
        value: configMap(ref.name)?.data?.[ref.key],
        from: `ConfigMap ${ref.name}`,
      });
    } else {
      env.set(variable.name, { value: undefined, from: 'valueFrom' });
    }
  }
  return env;
}

/**
 * Every variable the service's `uses` declares must reach its container with the declared name:
 * a missing one leaves the service on its built-in default, a different one points it at a
 * resource its roles are not scoped to. Returns the mismatches, one per variable.
 */
export function usesMismatches(
  objects: readonly KubernetesObject[],
  identity: ServiceIdentity,
  template: PodTemplate,
): string[] {
  const container =
    template.spec.containers.find((candidate) => candidate.name === identity.service) ??
    template.spec.containers[0];
  if (!container) return [`${describe(template.owner)} has no container`];
  const env = containerEnvironment(objects, template.owner.metadata?.namespace, container);
  return Object.entries(identity.uses ?? {}).flatMap(([variable, used]) => {
    const expected = usedResourceName(used);
    const found = env.get(variable);
    if (!found) return [`${variable} is not set (declared: ${expected})`];
    if (found.value === expected) return [];
    return [
      found.value === undefined
        ? `${variable} comes from ${found.from}, which the output does not show (declared: ${expected})`
        : `${variable} is '${found.value}' (${found.from}), declared: ${expected}`,
    ];
  });
}
