import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IdentityFeature, ServiceIdentity } from '@wi/identities';
import { readEnvFile } from './env-file.js';
import { type Kubectl, kustomize } from './kubectl.js';
import { type KubernetesObject, describe, findObject } from './manifests.js';
import { GUID, TENANT_ID_OUTPUT, TOKEN_EXCHANGE_AUDIENCE, clientIdOutput } from './outputs.js';
import { OVERLAYS } from './overlays.js';
import type { Failure, WiringCheck, WiringFeature, WiringInput, WiringLink } from './wiring.js';

// KEDA, one feature (docs/keda.md): the checks of its identity and overlay, registered with the
// wiring check in cli.ts as `kedaWiring`.

/**
 * KEDA's operator reads queue lengths with an identity of its own, federated with KEDA's
 * ServiceAccount. That account belongs to KEDA (the AKS add-on installs it as
 * kube-system/keda-operator), not to k8s/: what links it to the app are the TriggerAuthentication
 * (`podIdentity.provider: azure-workload`, `identityId` = the identity's client id) and the
 * ScaledObjects that use it.
 */
export const KEDA_OPERATOR_SERVICE_ACCOUNT = 'keda-operator';
export const KEDA_OPERATOR_NAMESPACE = 'kube-system';

/** The feature of infra/identities.json that KEDA's identity belongs to. */
export const KEDA_FEATURE: IdentityFeature = 'keda';

/** The identity of infra/identities.json federated with KEDA's operator, not with a workload. */
export function isKedaOperatorIdentity(identity: ServiceIdentity): boolean {
  return identity.feature === KEDA_FEATURE;
}

export type KedaFailure = Failure;

interface PodIdentity {
  provider?: string;
  identityId?: string;
  identityTenantId?: string;
}
interface TriggerAuthenticationSpec {
  podIdentity?: PodIdentity;
  secretTargetRef?: unknown[];
  env?: unknown[];
  azureKeyVault?: unknown;
}
interface Trigger {
  type?: string;
  name?: string;
  metadata?: Record<string, string>;
  authenticationRef?: { name?: string; kind?: string };
}
interface ScaledObjectSpec {
  scaleTargetRef?: { apiVersion?: string; kind?: string; name?: string };
  triggers?: Trigger[];
}

const spec = <T>(object: KubernetesObject) => (object.spec ?? {}) as T;

function workloadIdentityAuthentications(objects: readonly KubernetesObject[]) {
  return objects.filter(
    (object) =>
      object.kind === 'TriggerAuthentication' &&
      spec<TriggerAuthenticationSpec>(object).podIdentity?.provider === 'azure-workload',
  );
}

function scaledObjects(objects: readonly KubernetesObject[]) {
  return objects.filter((object) => object.kind === 'ScaledObject');
}

/** The identity trusts the account the AKS add-on runs KEDA's operator as, and no other. */
export function kedaOperatorAccountFailure(identity: ServiceIdentity): KedaFailure | undefined {
  const { namespace, name } = identity.serviceAccount;
  if (namespace === KEDA_OPERATOR_NAMESPACE && name === KEDA_OPERATOR_SERVICE_ACCOUNT)
    return undefined;
  return {
    problem: `identities[service=${identity.service}].serviceAccount is ${namespace}/${name}, but the AKS KEDA add-on runs its operator as ${KEDA_OPERATOR_NAMESPACE}/${KEDA_OPERATOR_SERVICE_ACCOUNT}: its tokens would match no federated credential (AADSTS700213)`,
    fix: `set serviceAccount to ${KEDA_OPERATOR_NAMESPACE}/${KEDA_OPERATOR_SERVICE_ACCOUNT} and the subject to system:serviceaccount:${KEDA_OPERATOR_NAMESPACE}:${KEDA_OPERATOR_SERVICE_ACCOUNT} in infra/identities.json`,
  };
}

/** No rendered object replaces KEDA's own ServiceAccount (the add-on owns and reconciles it). */
export function kedaServiceAccountFailure(
  objects: readonly KubernetesObject[],
  identity: ServiceIdentity,
): KedaFailure | undefined {
  const { namespace, name } = identity.serviceAccount;
  const rendered = findObject(objects, 'ServiceAccount', namespace, name);
  if (!rendered) return undefined;
  return {
    problem: `${describe(rendered)} is rendered by k8s/: the KEDA add-on owns it and would fight the apply`,
    fix: `remove it from k8s/; the federated credential (infra/identities.json) is all KEDA's account needs`,
  };
}

/** Every workload-identity TriggerAuthentication names this identity's client id. */
export function kedaClientIdFailure(
  objects: readonly KubernetesObject[],
  identity: ServiceIdentity,
  outputs: Readonly<Record<string, string>> | undefined,
): KedaFailure | undefined {
  const key = clientIdOutput(identity.service);
  const expected = outputs?.[key];
  if (workloadIdentityAuthentications(objects).length === 0) {
    return {
      problem: `no TriggerAuthentication with podIdentity provider azure-workload is rendered: nothing in this overlay uses ${identity.managedIdentityName}`,
      fix: 'add k8s/components/keda-autoscaling to the overlay (k8s/overlays/aks-keda does)',
    };
  }
  if (outputs && expected === undefined) {
    return {
      problem: `the env file has no ${key}`,
      fix: `re-run scripts/write-aks-env.sh; infra/main.bicep must output ${key} (the clientId of ${identity.managedIdentityName})`,
    };
  }
  if (expected === '') {
    return {
      problem: `${key} is empty: the deployment has no ${identity.managedIdentityName}`,
      fix: 'provision with enableKedaAutoscaling=true (ENABLE_KEDA_AUTOSCALING=true), then write the env file again',
    };
  }
  for (const auth of workloadIdentityAuthentications(objects)) {
    const value = spec<TriggerAuthenticationSpec>(auth).podIdentity?.identityId;
    if (value === undefined) {
      return {
        problem: `${describe(auth)} sets no identityId: KEDA would use the client id annotated on its own ServiceAccount, which the AKS add-on does not set`,
        fix: `set spec.podIdentity.identityId from data.${key} (k8s/components/azure-outputs)`,
      };
    }
    if (expected === undefined ? !GUID.test(value) : value !== expected) {
      return {
        problem: `${describe(auth)} has identityId '${value}'${expected === undefined ? ', not a client id (GUID)' : `, but ${key} is '${expected}'`}: Entra would refuse KEDA's exchange (AADSTS700213 or AADSTS700016)`,
        fix: `fill spec.podIdentity.identityId from data.${key} (k8s/components/azure-outputs); never type it`,
      };
    }
  }
  return undefined;
}

export function kedaTenantIdFailure(
  objects: readonly KubernetesObject[],
  outputs: Readonly<Record<string, string>> | undefined,
): KedaFailure | undefined {
  const expected = outputs?.[TENANT_ID_OUTPUT];
  for (const auth of workloadIdentityAuthentications(objects)) {
    const value = spec<TriggerAuthenticationSpec>(auth).podIdentity?.identityTenantId;
    if (value === undefined) continue;
    if (expected === undefined ? GUID.test(value) : value === expected) continue;
    return {
      problem: `${describe(auth)} has identityTenantId '${value}'${expected === undefined ? '' : `, but ${TENANT_ID_OUTPUT} is '${expected}'`}`,
      fix: `fill it from data.${TENANT_ID_OUTPUT} (k8s/components/azure-outputs), or remove it`,
    };
  }
  return undefined;
}

/** Each ScaledObject scales a rendered Deployment that leaves the replica count to KEDA. */
export function kedaScaleTargetFailure(
  objects: readonly KubernetesObject[],
): KedaFailure | undefined {
  for (const scaled of scaledObjects(objects)) {
    const target = spec<ScaledObjectSpec>(scaled).scaleTargetRef;
    const kind = target?.kind ?? 'Deployment';
    const workload = target?.name
      ? findObject(objects, kind, scaled.metadata?.namespace, target.name)
      : undefined;
    if (!workload) {
      return {
        problem: `${describe(scaled)} scales ${kind} ${target?.name ?? '(unnamed)'}, which is not rendered in its namespace`,
        fix: 'point spec.scaleTargetRef at the Deployment it should scale',
      };
    }
    if ((workload.spec as { replicas?: unknown } | undefined)?.replicas !== undefined) {
      return {
        problem: `${describe(workload)} sets spec.replicas: every apply would reset what KEDA decided`,
        fix: `remove spec.replicas (and any overlay 'replicas:' entry) for ${target!.name}`,
      };
    }
  }
  return undefined;
}

/**
 * Each Azure trigger authenticates with workload identity: an authenticationRef to a
 * TriggerAuthentication of its namespace with provider azure-workload, and no connection string
 * or secret anywhere (the rule of this repository holds for the autoscaler too).
 */
export function kedaTriggerAuthenticationFailure(
  objects: readonly KubernetesObject[],
): KedaFailure | undefined {
  for (const auth of objects.filter((object) => object.kind === 'TriggerAuthentication')) {
    const s = spec<TriggerAuthenticationSpec>(auth);
    if (s.secretTargetRef || s.env || s.azureKeyVault) {
      return {
        problem: `${describe(auth)} takes a secret (secretTargetRef, env or azureKeyVault)`,
        fix: 'use podIdentity.provider: azure-workload only; no key or connection string',
      };
    }
  }
  for (const scaled of scaledObjects(objects)) {
    for (const trigger of spec<ScaledObjectSpec>(scaled).triggers ?? []) {
      if (!trigger.type?.startsWith('azure')) continue;
      const label = `${describe(scaled)} trigger ${trigger.name ?? trigger.type}`;
      const metadata = trigger.metadata ?? {};
      if (Object.keys(metadata).some((key) => /^connection/i.test(key))) {
        return {
          problem: `${label} reads a connection string`,
          fix: 'remove connection/connectionFromEnv; authenticate through a TriggerAuthentication with podIdentity.provider: azure-workload',
        };
      }
      const ref = trigger.authenticationRef;
      const auth =
        ref?.name && (ref.kind ?? 'TriggerAuthentication') === 'TriggerAuthentication'
          ? findObject(objects, 'TriggerAuthentication', scaled.metadata?.namespace, ref.name)
          : undefined;
      if (!auth) {
        return {
          problem: `${label} has ${ref?.name ? `authenticationRef ${ref.name}, which is not rendered in its namespace` : 'no authenticationRef'}`,
          fix: 'reference the TriggerAuthentication of k8s/components/keda-autoscaling',
        };
      }
      const provider = spec<TriggerAuthenticationSpec>(auth).podIdentity?.provider;
      if (provider !== 'azure-workload') {
        return {
          problem: `${describe(auth)} uses podIdentity provider ${provider ?? '(none)'}`,
          fix: 'set spec.podIdentity.provider: azure-workload',
        };
      }
    }
  }
  return undefined;
}

/** KEDA creates the HPA of each ScaledObject: a rendered one on the same workload would fight it. */
export function kedaAutoscalerFailure(
  objects: readonly KubernetesObject[],
): KedaFailure | undefined {
  for (const scaled of scaledObjects(objects)) {
    const target = spec<ScaledObjectSpec>(scaled).scaleTargetRef;
    const rival = objects.find(
      (object) =>
        object.kind === 'HorizontalPodAutoscaler' &&
        object.metadata?.namespace === scaled.metadata?.namespace &&
        (object.spec as ScaledObjectSpec | undefined)?.scaleTargetRef?.name === target?.name &&
        ((object.spec as ScaledObjectSpec | undefined)?.scaleTargetRef?.kind ?? 'Deployment') ===
          (target?.kind ?? 'Deployment'),
    );
    if (rival) {
      return {
        problem: `${describe(rival)} and ${describe(scaled)} both scale ${target?.kind ?? 'Deployment'} ${target?.name}: KEDA's own HPA and this one would overwrite each other's replica count`,
        fix: 'delete the HorizontalPodAutoscaler where the ScaledObject is added (k8s/components/keda-autoscaling does), and put its CPU rule in the ScaledObject as a cpu trigger',
      };
    }
  }
  return undefined;
}

/** The overlay that adds KEDA to the AKS overlay, and the env file of its one extra output. */
export const KEDA_OVERLAY = 'aks-keda';
export const KEDA_ENV_FILE = 'keda.env';
export const KEDA_ENV_EXAMPLE = 'keda.env.example';

export interface RenderKedaOverlayOptions {
  k8sDir: string;
  /** Used in place of overlays/aks/azure.env (e.g. its example). */
  azureEnvFile?: string;
  /** Used in place of overlays/aks-keda/keda.env (e.g. its example). */
  kedaEnvFile?: string;
}

export interface RenderedKedaOverlay {
  objects: KubernetesObject[];
  /** Both env files' values: the Bicep outputs the overlay was rendered from. */
  outputs: Record<string, string>;
  envFiles: string[];
}

/** Renders overlays/aks-keda, in a temporary copy of k8s/ when an env file is substituted. */
export function renderKedaOverlay(
  kubectl: Kubectl,
  options: RenderKedaOverlayOptions,
): RenderedKedaOverlay {
  const azureEnv = join(options.k8sDir, 'overlays', 'aks', OVERLAYS.aks.envFile);
  const kedaEnv = join(options.k8sDir, 'overlays', KEDA_OVERLAY, KEDA_ENV_FILE);
  const envFiles = [options.azureEnvFile ?? azureEnv, options.kedaEnvFile ?? kedaEnv];
  const outputs = () =>
    Object.assign({}, ...envFiles.map((file) => (existsSync(file) ? readEnvFile(file) : {})));
  if (!options.azureEnvFile && !options.kedaEnvFile) {
    return {
      objects: kustomize(kubectl, join(options.k8sDir, 'overlays', KEDA_OVERLAY)),
      outputs: outputs(),
      envFiles,
    };
  }
  const copy = mkdtempSync(join(tmpdir(), 'k8s-render-'));
  try {
    cpSync(options.k8sDir, copy, { recursive: true });
    if (options.azureEnvFile)
      cpSync(options.azureEnvFile, join(copy, 'overlays', 'aks', OVERLAYS.aks.envFile));
    if (options.kedaEnvFile)
      cpSync(options.kedaEnvFile, join(copy, 'overlays', KEDA_OVERLAY, KEDA_ENV_FILE));
    return {
      objects: kustomize(kubectl, join(copy, 'overlays', KEDA_OVERLAY)),
      outputs: outputs(),
      envFiles,
    };
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/**
 * The identity KEDA's operator authenticates with (ServiceAccount kube-system/keda-operator of the
 * AKS add-on, which k8s/ does not render): its federated credential, and the KEDA objects of the
 * overlay that use it. Checked only where the overlay turns the feature on (aks-keda), which must
 * then render them.
 */
export function checkKedaIdentity(input: WiringInput, identity: ServiceIdentity): WiringLink[] {
  const { objects, outputs } = input;
  const { namespace, name } = identity.serviceAccount;
  const subject = `system:serviceaccount:${namespace}:${name}`;
  const fic = identity.federatedCredential;
  const link = (check: WiringCheck, statement: string, failure?: Failure): WiringLink =>
    failure
      ? { identity: identity.service, check, ok: false, statement, ...failure }
      : { identity: identity.service, check, ok: true, statement };
  return [
    link(
      'namespace',
      `ServiceAccount ${namespace}/${name} is the one the AKS add-on runs KEDA's operator as`,
      kedaOperatorAccountFailure(identity),
    ),
    link(
      'service-account',
      `k8s/ does not render ServiceAccount ${namespace}/${name}: the add-on owns it`,
      kedaServiceAccountFailure(objects, identity),
    ),
    link(
      'client-id',
      `every TriggerAuthentication with podIdentity azure-workload has identityId = the Bicep output ${clientIdOutput(identity.service)} (client id of ${identity.managedIdentityName})`,
      kedaClientIdFailure(objects, identity, outputs),
    ),
    link(
      'tenant-id',
      `their identityTenantId, if set, is the Bicep output ${TENANT_ID_OUTPUT}`,
      kedaTenantIdFailure(objects, outputs),
    ),
    link(
      'deployment',
      'each ScaledObject scales a rendered Deployment that sets no replicas',
      kedaScaleTargetFailure(objects),
    ),
    link(
      'trigger-authentication',
      'each Azure trigger authenticates through a TriggerAuthentication with podIdentity azure-workload, and no secret or connection string',
      kedaTriggerAuthenticationFailure(objects),
    ),
    link(
      'autoscaler',
      'no HorizontalPodAutoscaler is rendered for a workload a ScaledObject scales (KEDA creates its own)',
      kedaAutoscalerFailure(objects),
    ),
    link(
      'federated-subject',
      `federated credential ${fic.name} trusts the subject ${subject}`,
      fic.subject === subject
        ? undefined
        : {
            problem: `infra/identities.json has subject ${fic.subject}; tokens of KEDA's ServiceAccount ${namespace}/${name} carry ${subject}, so Entra answers AADSTS700213`,
            fix: `set identities[service=${identity.service}].federatedCredential.subject to ${subject} in infra/identities.json`,
          },
    ),
    link(
      'federated-audience',
      `federated credential ${fic.name} accepts the audience ${TOKEN_EXCHANGE_AUDIENCE}`,
      fic.audiences.includes(TOKEN_EXCHANGE_AUDIENCE)
        ? undefined
        : {
            problem: `its audiences are ${fic.audiences.join(', ')}; KEDA's token carries ${TOKEN_EXCHANGE_AUDIENCE}, so Entra answers AADSTS700212`,
            fix: `set identities[service=${identity.service}].federatedCredential.audiences to ["${TOKEN_EXCHANGE_AUDIENCE}"] in infra/identities.json`,
          },
    ),
  ];
}

/** KEDA as a feature of the wiring check: overlays/aks-keda and the identity with feature "keda". */
export const kedaWiring: WiringFeature = {
  name: KEDA_FEATURE,
  overlay: KEDA_OVERLAY,
  checkIdentity: checkKedaIdentity,
  render(kubectl, k8sDir, azureEnvFile) {
    const overlayDir = join(k8sDir, 'overlays', KEDA_OVERLAY);
    const kedaExample = !existsSync(join(overlayDir, KEDA_ENV_FILE));
    const rendered = renderKedaOverlay(kubectl, {
      k8sDir,
      ...(azureEnvFile ? { azureEnvFile } : {}),
      ...(kedaExample ? { kedaEnvFile: join(overlayDir, KEDA_ENV_EXAMPLE) } : {}),
    });
    return { ...rendered, example: kedaExample };
  },
};
