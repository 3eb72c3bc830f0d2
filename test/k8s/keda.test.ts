import { join } from 'node:path';
import {
  KEDA_ENV_EXAMPLE,
  KEDA_OVERLAY,
  type KubernetesObject,
  type WiringLink,
  checkRestricted,
  checkWiring,
  readEnvFile,
  kedaWiring,
  renderKedaOverlay,
  validateObject,
  validateSchemas,
} from '@wi/wiring';
import type { IdentitiesFile } from '@wi/identities';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  aksExampleEnv,
  copy,
  deployment,
  get,
  identities,
  k8sDir,
  renderBase,
  requireKubectl,
  skipKubectlTests,
} from './support/k8s.js';

const kedaEnvExample = join(k8sDir, 'overlays', KEDA_OVERLAY, KEDA_ENV_EXAMPLE);

interface ScaledObject {
  metadata: { annotations?: Record<string, string> };
  spec: {
    scaleTargetRef: { apiVersion?: string; kind?: string; name: string };
    minReplicaCount: number;
    maxReplicaCount: number;
    advanced?: { horizontalPodAutoscalerConfig?: { name?: string } };
    triggers: {
      type: string;
      name?: string;
      metadata: Record<string, string>;
      authenticationRef?: { name: string };
    }[];
  };
}

const failures = (links: WiringLink[]) =>
  links.filter((link) => !link.ok).map((link) => `${link.identity} ${link.check}`);

describe.skipIf(skipKubectlTests)(
  'overlays/aks-keda: the backend scaled by KEDA on queue depth',
  () => {
    let objects: KubernetesObject[];
    let outputs: Record<string, string>;
    /** KEDA's identity: the entry of infra/identities.json with feature "keda". */
    const kedaIndex = identities.identities.findIndex((identity) => identity.feature === 'keda');

    beforeAll(() => {
      const rendered = renderKedaOverlay(requireKubectl(), {
        k8sDir,
        azureEnvFile: aksExampleEnv,
        kedaEnvFile: kedaEnvExample,
      });
      objects = rendered.objects;
      outputs = rendered.outputs;
    });

    it('renders the AKS overlay with the HPA replaced by a ScaledObject and its TriggerAuthentication', () => {
      const kinds = [...new Set(objects.map((object) => object.kind))].sort();
      const baseKinds = [...new Set(renderBase().map((object) => object.kind))];
      expect(kinds).toEqual(
        [
          ...baseKinds.filter((kind) => kind !== 'HorizontalPodAutoscaler'),
          'ScaledObject',
          'TriggerAuthentication',
        ].sort(),
      );
      expect(objects.filter((object) => object.kind === 'ConfigMap')).toEqual([]);
      const text = JSON.stringify(objects);
      expect(text).not.toContain('set-by-overlay');
      for (const object of objects.filter((o) => o.kind !== 'Namespace'))
        expect(object.metadata?.namespace, `${object.kind} ${object.metadata?.name}`).toBe(
          'doc-intake',
        );
    });

    it('validates against the Kubernetes and KEDA schemas (@kubernetes-models/keda)', async () => {
      expect(await validateSchemas(objects)).toEqual([]);
      // The KEDA validator is the one generated from KEDA's CRDs: prove it bites.
      const broken = copy(objects);
      const auth = get(broken, 'TriggerAuthentication', 'backend-service-bus');
      (auth.spec as { podIdentity: { provider: string } }).podIdentity.provider = 'azure';
      expect(await validateObject(auth)).toEqual([
        '/spec/podIdentity/provider must be equal to one of the allowed values',
      ]);
      const scaled = get(broken, 'ScaledObject', 'backend');
      (scaled.spec as ScaledObject['spec']).triggers[0]!.metadata.messageCount = 16 as never;
      expect(await validateObject(scaled)).toEqual([
        '/spec/triggers/0/metadata/messageCount must be string',
      ]);
    });

    it('scales the backend on the documents queue, from the Bicep outputs, through workload identity', () => {
      const scaled = get(objects, 'ScaledObject', 'backend') as unknown as ScaledObject;
      expect(scaled.spec.scaleTargetRef).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'backend',
      });
      // The API lives in the same pods: never zero; two for a node drain, as the HPA had.
      expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
      expect(scaled.spec.maxReplicaCount).toBeGreaterThan(scaled.spec.minReplicaCount);
      const [queue, cpu] = scaled.spec.triggers;
      expect(queue).toMatchObject({
        type: 'azure-servicebus',
        authenticationRef: { name: 'backend-service-bus' },
        metadata: {
          namespace: outputs.serviceBusFullyQualifiedNamespace!.split('.')[0],
          queueName: outputs.documentsQueue,
        },
      });
      expect(Number(queue!.metadata.messageCount)).toBeGreaterThan(0);
      expect(cpu).toMatchObject({ type: 'cpu', metricType: 'Utilization' });
      const auth = get(objects, 'TriggerAuthentication', 'backend-service-bus');
      expect(auth.spec).toEqual({
        podIdentity: {
          provider: 'azure-workload',
          identityId: outputs.kedaClientId,
          identityTenantId: outputs.tenantId,
        },
      });
      expect(outputs.kedaClientId).toBe(readEnvFile(kedaEnvExample).kedaClientId);
    });

    it('never fights KEDA: no HPA of its own, no replicas, and KEDA adopts the HPA overlays/aks left', () => {
      expect(objects.filter((object) => object.kind === 'HorizontalPodAutoscaler')).toEqual([]);
      expect(deployment(objects, 'backend').spec!.replicas).toBeUndefined();
      const scaled = get(objects, 'ScaledObject', 'backend') as unknown as ScaledObject;
      expect(scaled.spec.advanced?.horizontalPodAutoscalerConfig?.name).toBe('backend');
      expect(scaled.metadata.annotations).toMatchObject({
        'scaledobject.keda.sh/transfer-hpa-ownership': 'true',
      });
    });

    it('keeps every workload identity link and Pod Security "restricted"', () => {
      expect(failures(checkWiring({ identities, objects, outputs }))).toEqual([]);
      expect(checkRestricted(objects)).toEqual([]);
    });

    it("links KEDA's identity (infra/identities.json, feature keda) to its TriggerAuthentication", () => {
      expect(identities.identities[kedaIndex]).toMatchObject({
        service: 'keda',
        serviceAccount: { namespace: 'kube-system', name: 'keda-operator' },
      });
      const links = checkWiring({ identities, features: [kedaWiring], objects, outputs });
      expect(failures(links)).toEqual([]);
      // KEDA's nine links, and the two services' as in overlays/aks.
      expect(links.filter((link) => link.identity === 'keda')).toHaveLength(9);
      const withoutKeda = checkWiring({ identities, objects, outputs });
      expect(links).toHaveLength(9 + withoutKeda.length);
      // Where the feature is off (overlays/aks and local), KEDA's identity is not looked for.
      expect(checkWiring({ identities, objects, outputs }).map((l) => l.identity)).not.toContain(
        'keda',
      );
    });

    const cases: {
      name: string;
      mutate: (
        objects: KubernetesObject[],
        outputs: Record<string, string>,
        file: IdentitiesFile,
      ) => void;
      expected: string[];
      says: RegExp;
    }[] = [
      {
        name: 'the base HPA is rendered next to the ScaledObject',
        mutate: (o) =>
          o.push(structuredClone(get(renderBase(), 'HorizontalPodAutoscaler', 'backend'))),
        expected: ['keda autoscaler'],
        says: /would overwrite each other's replica count/,
      },
      {
        name: "the TriggerAuthentication names the backend's client id",
        mutate: (o, out) =>
          void ((
            get(o, 'TriggerAuthentication', 'backend-service-bus').spec as {
              podIdentity: { identityId: string };
            }
          ).podIdentity.identityId = out.backendClientId!),
        expected: ['keda client-id'],
        says: /but kedaClientId is/,
      },
      {
        name: 'the deployment was provisioned without KEDA (empty kedaClientId)',
        mutate: (_o, out) => void (out.kedaClientId = ''),
        expected: ['keda client-id'],
        says: /enableKedaAutoscaling=true/,
      },
      {
        name: 'the trigger reads a connection string',
        mutate: (o) =>
          void ((
            get(o, 'ScaledObject', 'backend').spec as ScaledObject['spec']
          ).triggers[0]!.metadata.connectionFromEnv = 'SERVICEBUS_CONNECTION'),
        expected: ['keda trigger-authentication'],
        says: /reads a connection string/,
      },
      {
        name: 'the Deployment sets replicas',
        mutate: (o) => void (deployment(o, 'backend').spec!.replicas = 3),
        expected: ['keda deployment'],
        says: /every apply would reset what KEDA decided/,
      },
      {
        name: "the federated credential names the backend's account",
        mutate: (_o, _out, file) =>
          void (file.identities[kedaIndex]!.federatedCredential.subject =
            'system:serviceaccount:doc-intake:backend'),
        expected: ['keda federated-subject'],
        says: /AADSTS700213/,
      },
      {
        name: 'the identity names a KEDA installed by Helm (namespace keda), not the add-on',
        mutate: (_o, _out, file) => {
          const keda = file.identities[kedaIndex]!;
          keda.serviceAccount.namespace = 'keda';
          keda.federatedCredential.subject = 'system:serviceaccount:keda:keda-operator';
        },
        expected: ['keda namespace'],
        says: /runs its operator as kube-system\/keda-operator/,
      },
      {
        name: 'the overlay lost its KEDA objects',
        mutate: (o) =>
          void o.splice(
            0,
            o.length,
            ...o.filter(
              (object) => !['TriggerAuthentication', 'ScaledObject'].includes(object.kind!),
            ),
          ),
        expected: ['keda client-id'],
        says: /nothing in this overlay uses id-keda/,
      },
    ];

    it.each(cases)('catches it when $name', ({ mutate, expected, says }) => {
      const mutated = copy(objects);
      const out = { ...outputs };
      const file = structuredClone(identities);
      mutate(mutated, out, file);
      const links = checkWiring({
        identities: file,
        features: [kedaWiring],
        objects: mutated,
        outputs: out,
      });
      expect(failures(links)).toEqual(expected);
      expect(
        links
          .filter((link) => !link.ok)
          .map((link) => `${link.problem} ${link.fix}`)
          .join('\n'),
      ).toMatch(says);
    });
  },
);
