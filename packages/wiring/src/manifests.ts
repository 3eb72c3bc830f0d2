import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { parseAllDocuments } from 'yaml';

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** One rendered Kubernetes object, as much of it as the checks need to name it. */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/** A pod template found in a workload, with the labels the pods will carry. */
export interface PodTemplate {
  owner: KubernetesObject;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: IPodSpec;
}

export class ManifestError extends Error {
  override name = 'ManifestError';
}

/** Parses multi-document YAML (kubectl kustomize's output) into objects, refusing anything else. */
export function parseManifests(yamlText: string, source = 'manifests'): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  for (const document of parseAllDocuments(yamlText)) {
    if (document.errors.length > 0) {
      throw new ManifestError(`${source}: ${document.errors[0]!.message}`);
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (!isKubernetesObject(value)) {
      throw new ManifestError(`${source}: a document without apiVersion and kind`);
    }
    objects.push(value);
  }
  return objects;
}

function isKubernetesObject(value: unknown): value is KubernetesObject {
  if (typeof value !== 'object' || value === null) return false;
  const { apiVersion, kind } = value as Record<string, unknown>;
  return typeof apiVersion === 'string' && typeof kind === 'string';
}

/** `Deployment doc-intake/frontend`: how every message names an object. */
export function describe(object: KubernetesObject): string {
  const { namespace, name } = object.metadata ?? {};
  return `${object.kind} ${namespace ? `${namespace}/` : ''}${name ?? '(unnamed)'}`;
}

export function findObject(
  objects: readonly KubernetesObject[],
  kind: string,
  namespace: string | undefined,
  name: string,
): KubernetesObject | undefined {
  return objects.find(
    (object) =>
      object.kind === kind &&
      object.metadata?.name === name &&
      (namespace === undefined || object.metadata?.namespace === namespace),
  );
}

interface TemplateLike {
  metadata?: ObjectMeta;
  spec?: IPodSpec;
}

/**
 * The pod template of every kind that creates pods. CronJob nests one level deeper; a bare Pod is
 * its own template.
 */
export function podTemplates(objects: readonly KubernetesObject[]): PodTemplate[] {
  const templates: PodTemplate[] = [];
  for (const owner of objects) {
    const template = templateOf(owner);
    if (!template?.spec) continue;
    templates.push({
      owner,
      labels: template.metadata?.labels ?? {},
      annotations: template.metadata?.annotations ?? {},
      spec: template.spec,
    });
  }
  return templates;
}

const TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

function templateOf(object: KubernetesObject): TemplateLike | undefined {
  const spec = object.spec as Record<string, unknown> | undefined;
  if (object.kind === 'Pod') return { metadata: object.metadata, spec: object.spec as IPodSpec };
  if (TEMPLATE_KINDS.has(object.kind)) return spec?.template as TemplateLike | undefined;
  if (object.kind === 'CronJob') {
    const jobTemplate = spec?.jobTemplate as { spec?: { template?: TemplateLike } } | undefined;
    return jobTemplate?.spec?.template;
  }
  return undefined;
}

/** Containers, init containers and ephemeral containers: every one a policy applies to. */
export function allContainers(spec: IPodSpec): IContainer[] {
  return [
    ...(spec.initContainers ?? []),
    ...spec.containers,
    ...((spec.ephemeralContainers ?? []) as IContainer[]),
  ];
}
