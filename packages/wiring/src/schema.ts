import type { KubernetesObject } from './manifests.js';
import { describe } from './manifests.js';

export interface SchemaViolation {
  object: string;
  /** JSON pointer into the object, with ajv's message: `/spec/replicas must be integer`. */
  errors: string[];
}

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

/**
 * Validates each object against the Kubernetes OpenAPI schema of its apiVersion and kind, with
 * the validators that the `kubernetes-models` package generates from that schema (and, for the
 * custom resources of CRD_MODELS, the package generated from their CRDs). Like the schema,
 * this checks types, enums and required fields; unknown fields pass here and are refused only by
 * the API server's strict field validation.
 */
export async function validateSchemas(
  objects: readonly KubernetesObject[],
): Promise<SchemaViolation[]> {
  const violations: SchemaViolation[] = [];
  for (const object of objects) {
    const errors = await validateObject(object);
    if (errors.length > 0) violations.push({ object: describe(object), errors });
  }
  return violations;
}

export async function validateObject(object: KubernetesObject): Promise<string[]> {
  const Model = await modelFor(object);
  if (!Model) return [`no schema for ${object.apiVersion} ${object.kind}`];
  try {
    new Model(structuredClone(object)).validate();
    return [];
  } catch (error) {
    const details = (error as { errors?: { instancePath: string; message?: string }[] }).errors;
    if (!details) throw error;
    return details.map(
      (detail) => `${detail.instancePath || '/'} ${detail.message ?? 'is invalid'}`,
    );
  }
}

/** Custom resources validated against their CRDs' schemas, by the package generated from them. */
const CRD_MODELS: readonly { apiVersion: RegExp; library: string }[] = [
  { apiVersion: /^([a-z0-9-]+\.)?keda\.sh\//, library: '@kubernetes-models/keda' }, // [keda]
];

const models = new Map<string, ModelClass | undefined>();

/** `apps/v1` + `Deployment` -> kubernetes-models/apps/v1/Deployment; core `v1` -> kubernetes-models/v1/... */
async function modelFor(object: KubernetesObject): Promise<ModelClass | undefined> {
  if (!/^[a-z0-9.-]+(\/[a-z0-9]+)?$/.test(object.apiVersion) || !/^[A-Za-z]+$/.test(object.kind)) {
    return undefined;
  }
  const library =
    CRD_MODELS.find((crd) => crd.apiVersion.test(object.apiVersion))?.library ??
    'kubernetes-models';
  const specifier = `${library}/${object.apiVersion}/${object.kind}`;
  if (!models.has(specifier)) {
    let model: ModelClass | undefined;
    try {
      const module = (await import(specifier)) as Record<string, unknown>;
      model = module[object.kind] as ModelClass | undefined;
    } catch {
      model = undefined;
    }
    models.set(specifier, model);
  }
  return models.get(specifier);
}
