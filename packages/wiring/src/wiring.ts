import {
  type IdentitiesFile,
  type IdentityFeature,
  type ServiceIdentity,
  identitiesWith,
} from '@wi/identities';
import type { Kubectl } from './kubectl.js';
import {
  type KubernetesObject,
  type PodTemplate,
  allContainers,
  describe,
  findObject,
  podTemplates,
} from './manifests.js';
import {
  CLIENT_ID_ANNOTATION,
  GUID,
  TENANT_ID_ANNOTATION,
  TENANT_ID_OUTPUT,
  TOKEN_EXCHANGE_AUDIENCE,
  USE_LABEL,
  WEBHOOK_VARIABLES,
  clientIdOutput,
} from './outputs.js';
import { usesMismatches } from './uses.js';

/** One link of the chain managed identity -> federated credential -> ServiceAccount -> pod. */
export type WiringCheck =
  | 'namespace'
  | 'service-account'
  | 'client-id'
  | 'tenant-id'
  | 'deployment'
  | 'pod-label'
  | 'webhook-variables'
  // The names a service uses reach it: the declaration's `uses` = its Deployment's environment.
  | 'uses'
  | 'federated-subject'
  | 'federated-audience'
  // An operator's identity of a feature (its ServiceAccount is the operator's, so the ones above
  // do not apply; see WiringFeature):
  | 'trigger-authentication'
  | 'autoscaler';

export interface WiringLink {
  /** The service the identity belongs to (identities[].service). */
  identity: string;
  check: WiringCheck;
  ok: boolean;
  /** What must hold, phrased to read after ✓ or ✗. */
  statement: string;
  /** What was found instead (✗ only). */
  problem?: string;
  /** What to change (✗ only). */
  fix?: string;
}

export interface WiringInput {
  identities: IdentitiesFile;
  /**
   * The optional features the overlay turns on. An identity of another feature has nothing in the
   * overlay and is not checked.
   */
  features?: readonly WiringFeature[];
  /** The rendered overlay. */
  objects: readonly KubernetesObject[];
  /** The overlay's env file (Bicep outputs). Without it, client ids are only checked for shape. */
  outputs?: Readonly<Record<string, string>>;
}

/**
 * An optional part of the deployment (identities.json `"feature"`) with an overlay of its own, whose
 * identity is checked by the feature's module rather than as a workload's.
 */
export interface WiringFeature {
  /** The identities' `feature` value. */
  name: IdentityFeature;
  /** k8s/overlays/<overlay> turns it on. */
  overlay: string;
  /** The links of one of the feature's identities, in place of a workload's. */
  checkIdentity(input: WiringInput, identity: ServiceIdentity): WiringLink[];
  /** Renders the overlay, from the committed example env files where no real one is written. */
  render(kubectl: Kubectl, k8sDir: string, azureEnvFile?: string): RenderedFeatureOverlay;
}

export interface RenderedFeatureOverlay {
  objects: KubernetesObject[];
  /** The env files' values: the Bicep outputs the overlay was rendered from. */
  outputs: Record<string, string>;
  envFiles: string[];
  /** Some env file was an example (fake values). */
  example: boolean;
}

/** Checks, for every identity in infra/identities.json, each link that workload identity needs. */
export function checkWiring(input: WiringInput): WiringLink[] {
  const features = input.features ?? [];
  const { identities } = identitiesWith(
    input.identities,
    features.map((feature) => feature.name),
  );
  return identities.flatMap((identity) => {
    const feature = features.find((candidate) => candidate.name === identity.feature);
    return feature ? feature.checkIdentity(input, identity) : checkIdentity(input, identity);
  });
}

function checkIdentity(input: WiringInput, identity: ServiceIdentity): WiringLink[] {
  const { objects, outputs } = input;
  const { namespace, name } = identity.serviceAccount;
  const link = (check: WiringCheck, statement: string, failure?: Failure): WiringLink =>
    failure
      ? { identity: identity.service, check, ok: false, statement, ...failure }
      : { identity: identity.service, check, ok: true, statement };
  const serviceAccount = findObject(objects, 'ServiceAccount', namespace, name);
  const deployment = findObject(objects, 'Deployment', namespace, identity.service);
  const template = deployment ? podTemplates([deployment])[0] : undefined;
  const fic = identity.federatedCredential;
  const subject = `system:serviceaccount:${namespace}:${name}`;

  return [
    link(
      'namespace',
      `Namespace ${namespace} is rendered, as infra/identities.json names it`,
      namespaceFailure(input, identity),
    ),
    link(
      'service-account',
      `ServiceAccount ${namespace}/${name} is rendered`,
      serviceAccount ? undefined : serviceAccountFailure(objects, identity),
    ),
    link(
      'client-id',
      `its ${CLIENT_ID_ANNOTATION} is the Bicep output ${clientIdOutput(identity.service)} (client id of ${identity.managedIdentityName})`,
      clientIdFailure(input, identity, serviceAccount),
    ),
    link(
      'tenant-id',
      `its ${TENANT_ID_ANNOTATION}, if set, is the Bicep output ${TENANT_ID_OUTPUT}`,
      tenantIdFailure(serviceAccount, outputs),
    ),
    link(
      'deployment',
      `Deployment ${namespace}/${identity.service}, and no other workload, runs as ServiceAccount ${name}`,
      deploymentFailure(objects, identity, deployment),
    ),
    link(
      'pod-label',
      `the pod template of Deployment ${identity.service} carries ${USE_LABEL}: "true"`,
      podLabelFailure(identity, deployment, template, serviceAccount),
    ),
    link(
      'webhook-variables',
      `no container of Deployment ${identity.service} sets ${WEBHOOK_VARIABLES.join(', ')} itself`,
      webhookVariablesFailure(identity, template),
    ),
    link('uses', usesStatement(identity), usesFailure(objects, identity, template)),
    link(
      'federated-subject',
      `federated credential ${fic.name} trusts the subject ${subject}`,
      fic.subject === subject
        ? undefined
        : {
            problem: `infra/identities.json has subject ${fic.subject}; tokens of ServiceAccount ${namespace}/${name} carry ${subject}, so Entra answers AADSTS700213 (no matching federated identity record)`,
            fix: `set identities[service=${identity.service}].federatedCredential.subject to ${subject} in infra/identities.json and redeploy the Bicep`,
          },
    ),
    link(
      'federated-audience',
      `federated credential ${fic.name} accepts the audience ${TOKEN_EXCHANGE_AUDIENCE}`,
      fic.audiences.includes(TOKEN_EXCHANGE_AUDIENCE)
        ? undefined
        : {
            problem: `its audiences are ${fic.audiences.join(', ')}; the webhook's token carries ${TOKEN_EXCHANGE_AUDIENCE}, so Entra answers AADSTS700212 (no matching audience)`,
            fix: `set identities[service=${identity.service}].federatedCredential.audiences to ["${TOKEN_EXCHANGE_AUDIENCE}"] in infra/identities.json`,
          },
    ),
  ];
}

export interface Failure {
  problem: string;
  fix: string;
}

function namespaceFailure(input: WiringInput, identity: ServiceIdentity): Failure | undefined {
  const { namespace } = identity.serviceAccount;
  if (namespace !== input.identities.namespace) {
    return {
      problem: `identities[service=${identity.service}].serviceAccount.namespace is ${namespace}, but the file's namespace is ${input.identities.namespace}`,
      fix: 'use one namespace in infra/identities.json, the one k8s/base/kustomization.yaml sets',
    };
  }
  if (findObject(input.objects, 'Namespace', undefined, namespace)) return undefined;
  const found = input.objects.filter((object) => object.kind === 'Namespace').map(describe);
  return {
    problem: `no Namespace ${namespace} in the output${found.length ? ` (found ${found.join(', ')})` : ''}`,
    fix: `render Namespace ${namespace} (k8s/base/namespace.yaml) and set namespace: ${namespace} in k8s/base/kustomization.yaml, or change the namespace in infra/identities.json`,
  };
}

function serviceAccountFailure(
  objects: readonly KubernetesObject[],
  identity: ServiceIdentity,
): Failure {
  const { namespace, name } = identity.serviceAccount;
  const found = objects.filter((object) => object.kind === 'ServiceAccount').map(describe);
  return {
    problem: `not in the output${found.length ? `; found ${found.join(', ')}` : ''}`,
    fix: `name the ServiceAccount in k8s/base/${identity.service}/service-account.yaml ${name}, in namespace ${namespace}; or change serviceAccount (and the federated credential subject) in infra/identities.json`,
  };
}

function clientIdFailure(
  input: WiringInput,
  identity: ServiceIdentity,
  serviceAccount: KubernetesObject | undefined,
): Failure | undefined {
  if (!serviceAccount) {
    return { problem: 'no ServiceAccount to check', fix: 'fix the ServiceAccount first' };
  }
  const key = clientIdOutput(identity.service);
  const replacement = `the replacement of data.${key} in k8s/components/azure-outputs must target ServiceAccount ${identity.serviceAccount.name}, annotation ${CLIENT_ID_ANNOTATION}`;
  const value = serviceAccount.metadata?.annotations?.[CLIENT_ID_ANNOTATION];
  if (value === undefined) {
    return {
      problem: `${describe(serviceAccount)} has no ${CLIENT_ID_ANNOTATION} annotation: the webhook would inject no AZURE_CLIENT_ID`,
      fix: `annotate it in k8s/base/${identity.service}/service-account.yaml; ${replacement}`,
    };
  }
  const outputs = input.outputs;
  if (!outputs) {
    return GUID.test(value)
      ? undefined
      : {
          problem: `'${value}' is not a client id (GUID)`,
          fix: 'render an overlay (k8s/overlays/aks) with its env file, not the base',
        };
  }
  const expected = outputs[key];
  if (expected === undefined) {
    return {
      problem: `the env file has no ${key}`,
      fix: `re-run scripts/write-aks-env.sh; infra/main.bicep must output ${key} (the clientId of ${identity.managedIdentityName})`,
    };
  }
  if (value === expected) return undefined;
  const owner = Object.entries(outputs).find(
    ([other, otherValue]) => other !== key && otherValue === value,
  )?.[0];
  return {
    problem: `it is '${value}'${owner ? ` (the env file's ${owner})` : ''}, but ${key} is '${expected}'`,
    fix: `do not type client ids into YAML: ${replacement}`,
  };
}

function tenantIdFailure(
  serviceAccount: KubernetesObject | undefined,
  outputs: Readonly<Record<string, string>> | undefined,
): Failure | undefined {
  const value = serviceAccount?.metadata?.annotations?.[TENANT_ID_ANNOTATION];
  // Optional: without it the webhook uses the cluster's tenant.
  if (value === undefined) return undefined;
  const expected = outputs?.[TENANT_ID_OUTPUT];
  if (expected === undefined ? GUID.test(value) : value === expected) return undefined;
  return {
    problem:
      expected === undefined
        ? `'${value}' is not a tenant id (GUID)`
        : `it is '${value}', but ${TENANT_ID_OUTPUT} is '${expected}'`,
    fix: `fill it from data.${TENANT_ID_OUTPUT} (k8s/components/azure-outputs), or remove it to use the cluster's tenant`,
  };
}

/** The ServiceAccount a pod runs as: an unset serviceAccountName means `default`. */
function serviceAccountOf(template: PodTemplate): string {
  return template.spec.serviceAccountName || template.spec.serviceAccount || 'default';
}

function deploymentFailure(
  objects: readonly KubernetesObject[],
  identity: ServiceIdentity,
  deployment: KubernetesObject | undefined,
): Failure | undefined {
  const { namespace, name } = identity.serviceAccount;
  const users = podTemplates(objects).filter(
    (template) =>
      template.owner.metadata?.namespace === namespace && serviceAccountOf(template) === name,
  );
  const others = users.filter((template) => template.owner !== deployment);
  if (!deployment) {
    return {
      problem: `no Deployment ${namespace}/${identity.service} in the output`,
      fix: `render k8s/base/${identity.service}/deployment.yaml in namespace ${namespace}`,
    };
  }
  const own = podTemplates([deployment])[0];
  if (!own || serviceAccountOf(own) !== name) {
    const actual = own ? serviceAccountOf(own) : 'nothing';
    return {
      problem: `${describe(deployment)} runs as ServiceAccount ${actual}${own?.spec.serviceAccountName ? '' : ' (serviceAccountName unset)'}: its token's subject matches no federated credential`,
      fix: `set spec.template.spec.serviceAccountName: ${name} in k8s/base/${identity.service}/deployment.yaml`,
    };
  }
  if (others.length > 0) {
    return {
      problem: `also used by ${others.map((template) => describe(template.owner)).join(', ')}, which would get ${identity.managedIdentityName}'s roles`,
      fix: 'give every workload its own ServiceAccount and managed identity (one per service, least privilege)',
    };
  }
  return undefined;
}

function podLabelFailure(
  identity: ServiceIdentity,
  deployment: KubernetesObject | undefined,
  template: PodTemplate | undefined,
  serviceAccount: KubernetesObject | undefined,
): Failure | undefined {
  if (!deployment || !template) {
    return { problem: 'no Deployment to check', fix: 'fix the Deployment first' };
  }
  const value = template.labels[USE_LABEL];
  if (value === 'true') return undefined;
  const misplaced = [
    deployment.metadata?.labels?.[USE_LABEL] !== undefined ? 'the Deployment' : undefined,
    serviceAccount?.metadata?.labels?.[USE_LABEL] !== undefined ? 'the ServiceAccount' : undefined,
  ].filter(Boolean);
  return {
    problem:
      value !== undefined
        ? `the pod template has ${USE_LABEL}: "${value}"`
        : `the pod template has no ${USE_LABEL} label${misplaced.length ? `; it is on ${misplaced.join(' and ')}, where the webhook does not look` : ''}: pods start without the token or AZURE_* variables`,
    fix: `put ${USE_LABEL}: "true" under spec.template.metadata.labels in k8s/base/${identity.service}/deployment.yaml`,
  };
}

function webhookVariablesFailure(
  identity: ServiceIdentity,
  template: PodTemplate | undefined,
): Failure | undefined {
  if (!template) return { problem: 'no Deployment to check', fix: 'fix the Deployment first' };
  const set = allContainers(template.spec).flatMap((container) =>
    (container.env ?? [])
      .filter((variable) => (WEBHOOK_VARIABLES as readonly string[]).includes(variable.name))
      .map((variable) => `${container.name}: ${variable.name}`),
  );
  if (set.length === 0) return undefined;
  return {
    problem: `set by hand (${set.join(', ')}); the webhook keeps a container's own value, so the ServiceAccount's annotations no longer decide`,
    fix: `remove them from k8s/base/${identity.service}/deployment.yaml or the overlay patch that adds them`,
  };
}

function usesStatement(identity: ServiceIdentity): string {
  const variables = Object.keys(identity.uses ?? {});
  return variables.length === 0
    ? `infra/identities.json declares no names Deployment ${identity.service} uses`
    : `Deployment ${identity.service} sets the names its uses declares: ${variables.join(', ')}`;
}

function usesFailure(
  objects: readonly KubernetesObject[],
  identity: ServiceIdentity,
  template: PodTemplate | undefined,
): Failure | undefined {
  if (Object.keys(identity.uses ?? {}).length === 0) return undefined;
  if (!template) return { problem: 'no Deployment to check', fix: 'fix the Deployment first' };
  const mismatches = usesMismatches(objects, identity, template);
  if (mismatches.length === 0) return undefined;
  return {
    problem: mismatches.join('; '),
    fix: `set each to the name infra/identities.json declares, in k8s/base/${identity.service}/deployment.yaml (for a service made by pnpm new:service, run pnpm new:service --sync: it writes k8s/base/${identity.service}/uses-patch.yaml)`,
  };
}
