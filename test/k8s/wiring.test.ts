import { type IdentitiesFile, identitiesWith } from '@wi/identities';
import {
  type KubernetesObject,
  type RenderedOverlay,
  type WiringCheck,
  type WiringLink,
  checkWiring,
  formatLinks,
  runWiringCli,
} from '@wi/wiring';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  container,
  copy,
  deployment,
  get,
  identities,
  renderOverlays,
  repoRoot,
  skipKubectlTests,
} from './support/k8s.js';

const failures = (links: WiringLink[]) =>
  links.filter((link) => !link.ok).map((link) => `${link.identity} ${link.check}`);

interface Case {
  name: string;
  /** Breaks one thing in the rendered objects, the env file or the identities file. */
  mutate: (input: {
    objects: KubernetesObject[];
    outputs: Record<string, string>;
    identities: IdentitiesFile;
  }) => void;
  /** Exactly the links that must then fail, as `<service> <check>`. */
  expected: `${string} ${WiringCheck}`[];
  /** A phrase of the failing link's problem or fix a person would act on. */
  says: RegExp;
}

const cases: Case[] = [
  {
    name: 'the ServiceAccount is renamed',
    mutate: ({ objects }) =>
      void (get(objects, 'ServiceAccount', 'frontend').metadata!.name = 'web'),
    // The Deployment still names `frontend`; the service-account link is the one that says so.
    expected: ['frontend service-account', 'frontend client-id'],
    says: /found ServiceAccount doc-intake\/backend, ServiceAccount doc-intake\/web/,
  },
  {
    name: 'the ServiceAccount is in another namespace',
    mutate: ({ objects }) =>
      void (get(objects, 'ServiceAccount', 'backend').metadata!.namespace = 'default'),
    expected: ['backend service-account', 'backend client-id'],
    says: /ServiceAccount default\/backend/,
  },
  {
    name: 'the Namespace is not rendered',
    mutate: ({ objects }) =>
      void objects.splice(objects.indexOf(get(objects, 'Namespace', 'doc-intake')), 1),
    // Every service's: the file's namespace is gone for all of them.
    expected: identitiesWith(identities).identities.map(
      (identity) => `${identity.service} namespace` as const,
    ),
    says: /no Namespace doc-intake in the output/,
  },
  {
    name: 'the client-id annotation is missing',
    mutate: ({ objects }) =>
      void delete get(objects, 'ServiceAccount', 'frontend').metadata!.annotations![
        'azure.workload.identity/client-id'
      ],
    expected: ['frontend client-id'],
    says: /no azure.workload.identity\/client-id annotation/,
  },
  {
    name: "the client ids are swapped (frontend's annotation holds the backend's id)",
    mutate: ({ objects, outputs }) =>
      void (get(objects, 'ServiceAccount', 'frontend').metadata!.annotations![
        'azure.workload.identity/client-id'
      ] = outputs.backendClientId!),
    expected: ['frontend client-id'],
    says: /the env file's backendClientId\), but frontendClientId is/,
  },
  {
    name: 'a client id is typed into YAML (not from the env file)',
    mutate: ({ objects }) =>
      void (get(objects, 'ServiceAccount', 'backend').metadata!.annotations![
        'azure.workload.identity/client-id'
      ] = '12345678-1234-1234-1234-123456789abc'),
    expected: ['backend client-id'],
    says: /do not type client ids into YAML/,
  },
  {
    name: 'the env file lacks the client id output',
    mutate: ({ outputs }) => void delete outputs.backendClientId,
    expected: ['backend client-id'],
    says: /the env file has no backendClientId/,
  },
  {
    name: 'the tenant annotation differs from the tenantId output',
    mutate: ({ objects }) =>
      void (get(objects, 'ServiceAccount', 'backend').metadata!.annotations![
        'azure.workload.identity/tenant-id'
      ] = '99999999-9999-9999-9999-999999999999'),
    expected: ['backend tenant-id'],
    says: /but tenantId is/,
  },
  {
    name: 'the Deployment runs as the default ServiceAccount',
    mutate: ({ objects }) =>
      void delete deployment(objects, 'backend').spec!.template.spec!.serviceAccountName,
    expected: ['backend deployment'],
    says: /runs as ServiceAccount default \(serviceAccountName unset\)/,
  },
  {
    name: "another Deployment shares the frontend's ServiceAccount",
    mutate: ({ objects }) => {
      const extra = structuredClone(get(objects, 'Deployment', 'frontend'));
      extra.metadata!.name = 'reporting';
      objects.push(extra);
    },
    expected: ['frontend deployment'],
    says: /also used by Deployment doc-intake\/reporting, which would get id-frontend's roles/,
  },
  {
    name: 'the workload identity label is on the Deployment instead of the pod template',
    mutate: ({ objects }) => {
      const d = deployment(objects, 'frontend');
      delete d.spec!.template.metadata!.labels!['azure.workload.identity/use'];
      d.metadata!.labels!['azure.workload.identity/use'] = 'true';
    },
    expected: ['frontend pod-label'],
    says: /it is on the Deployment, where the webhook does not look/,
  },
  {
    name: 'the workload identity label is on the ServiceAccount instead of the pod template',
    mutate: ({ objects }) => {
      delete deployment(objects, 'backend').spec!.template.metadata!.labels![
        'azure.workload.identity/use'
      ];
      get(objects, 'ServiceAccount', 'backend').metadata!.labels = {
        'azure.workload.identity/use': 'true',
      };
    },
    expected: ['backend pod-label'],
    says: /it is on the ServiceAccount/,
  },
  {
    name: 'the workload identity label is "false"',
    mutate: ({ objects }) =>
      void (deployment(objects, 'backend').spec!.template.metadata!.labels![
        'azure.workload.identity/use'
      ] = 'false'),
    expected: ['backend pod-label'],
    says: /azure.workload.identity\/use: "false"/,
  },
  {
    name: 'AZURE_CLIENT_ID is set by hand (it would override the webhook)',
    mutate: ({ objects }) =>
      void container(objects, 'frontend').env!.push({ name: 'AZURE_CLIENT_ID', value: 'x' }),
    expected: ['frontend webhook-variables'],
    says: /set by hand \(frontend: AZURE_CLIENT_ID\)/,
  },
  {
    name: 'the Deployment names another queue than its `uses` declares',
    mutate: ({ objects }) =>
      void (container(objects, 'frontend').env!.find(
        (variable) => variable.name === 'DOCUMENTS_QUEUE',
      )!.value = 'documents-old'),
    expected: ['frontend uses'],
    says: /DOCUMENTS_QUEUE is 'documents-old' \(env\), declared: documents/,
  },
  {
    name: 'the Deployment leaves a declared name unset (the service would use its default)',
    mutate: ({ objects }) => {
      const backend = container(objects, 'backend');
      backend.env = backend.env!.filter((variable) => variable.name !== 'SIGNING_SECRET_NAME');
    },
    expected: ['backend uses'],
    says: /SIGNING_SECRET_NAME is not set \(declared: backend-signing-key\)/,
  },
  {
    name: 'a name comes from a ConfigMap (envFrom, as generated services get theirs) that differs',
    mutate: ({ objects }) => {
      const backend = container(objects, 'backend');
      backend.env = backend.env!.filter((variable) => variable.name !== 'COSMOS_DATABASE');
      backend.envFrom = [{ configMapRef: { name: 'backend-uses' }, prefix: 'COSMOS_' }];
      objects.push({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'backend-uses', namespace: 'doc-intake' },
        data: { DATABASE: 'intake-old' },
      });
    },
    expected: ['backend uses'],
    says: /COSMOS_DATABASE is 'intake-old' \(ConfigMap backend-uses\), declared: intake/,
  },
  {
    name: 'the declaration adds a name the Deployment does not set yet',
    mutate: ({ identities }) =>
      void (identities.identities[0]!.uses!.SIGNING_SECRET_NAME = {
        resource: 'keyVault',
        secret: 'backend-signing-key',
      }),
    expected: ['frontend uses'],
    says: /pnpm new:service --sync/,
  },
  {
    name: 'the federated credential subject names another ServiceAccount',
    mutate: ({ identities }) =>
      void (identities.identities[1]!.federatedCredential.subject =
        'system:serviceaccount:doc-intake:worker'),
    expected: ['backend federated-subject'],
    says: /AADSTS700213/,
  },
  {
    name: 'the federated credential audience is not the token exchange audience',
    mutate: ({ identities }) =>
      void (identities.identities[0]!.federatedCredential.audiences = ['api://other']),
    expected: ['frontend federated-audience'],
    says: /AADSTS700212/,
  },
  {
    name: 'the identities file names another service account namespace',
    mutate: ({ identities }) =>
      void (identities.identities[0]!.serviceAccount.namespace = 'intake'),
    expected: [
      'frontend namespace',
      'frontend service-account',
      'frontend client-id',
      'frontend deployment',
      // No Deployment in that namespace to look at, so these cannot hold either.
      'frontend pod-label',
      'frontend webhook-variables',
      'frontend uses',
      'frontend federated-subject',
    ],
    says: /serviceAccount.namespace is intake, but the file's namespace is doc-intake/,
  },
];

describe.skipIf(skipKubectlTests)(
  'wiring: infra/identities.json against the Kustomize output',
  () => {
    let overlays: RenderedOverlay[];
    beforeAll(() => {
      overlays = renderOverlays();
    });

    it.each(['aks', 'local'])('every link holds in the %s overlay', (name) => {
      const { objects, outputs } = overlays.find((overlay) => overlay.overlay === name)!;
      const links = checkWiring({ identities, objects, outputs });
      expect(failures(links)).toEqual([]);
      // Ten links for each identity the overlay has (a feature's are its overlay's): nothing is silently
      // left out.
      expect(links).toHaveLength(10 * identitiesWith(identities).identities.length);
      expect(new Set(links.map((link) => link.identity))).toEqual(
        new Set(identitiesWith(identities).identities.map((identity) => identity.service)),
      );
    });

    it.each(cases)('catches it when $name', ({ mutate, expected, says }) => {
      const aks = overlays.find((overlay) => overlay.overlay === 'aks')!;
      const input = {
        objects: copy(aks.objects),
        outputs: { ...aks.outputs },
        identities: structuredClone(identities),
      };
      mutate(input);
      const links = checkWiring(input);
      expect(failures(links)).toEqual(expected);
      const first = links.find((link) => !link.ok)!;
      const explained = links
        .filter((link) => !link.ok)
        .map((link) => `${link.problem} ${link.fix}`)
        .join('\n');
      expect(explained).toMatch(says);
      expect(first.fix).toBeTruthy();
    });

    it('prints each link with ✓ or ✗, and the fix under a ✗', () => {
      const aks = overlays.find((overlay) => overlay.overlay === 'aks')!;
      const objects = copy(aks.objects);
      delete deployment(objects, 'backend').spec!.template.spec!.serviceAccountName;
      const text = formatLinks(checkWiring({ identities, objects, outputs: aks.outputs }));
      expect(text).toContain('✓ ServiceAccount doc-intake/frontend is rendered');
      expect(text).toMatch(
        /✗ Deployment doc-intake\/backend, and no other workload, runs as ServiceAccount backend\n\s+found: .*\n\s+fix: {3}set spec.template.spec.serviceAccountName: backend/,
      );
    });

    it('runs as `pnpm check:wiring` over every overlay', async () => {
      const lines: string[] = [];
      const code = await runWiringCli([], { root: repoRoot, write: (line) => lines.push(line) });
      const output = lines.join('\n');
      expect(code, output).toBe(0);
      expect(output).toContain('k8s/overlays/aks with');
      expect(output).toContain('k8s/overlays/local with k8s/overlays/local/local.env');
      // [keda] begin
      // aks-keda: the services again, and KEDA's identity against its TriggerAuthentication.
      expect(output).toMatch(/k8s\/overlays\/aks-keda with .*keda\.env/);
      expect(output).toMatch(/^ {2}keda\n {4}✓ ServiceAccount kube-system\/keda-operator is/m);
      // [keda] end
      expect(output).not.toContain('✗');
      expect(output).toMatch(/every link holds/);
    });

    it('exits non-zero, naming the link, for a mismatched env file', async () => {
      const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const { join } = await import('node:path');
      const dir = mkdtempSync(join(tmpdir(), 'wiring-env-'));
      const example = readFileSync(join(repoRoot, 'k8s/overlays/aks/azure.env.example'), 'utf8');
      // An env file whose frontend id differs from what the manifests would render is impossible
      // through kustomize; a missing key is the realistic mistake, and kustomize names it.
      writeFileSync(join(dir, 'azure.env'), example.replace(/^frontendClientId=.*$/m, ''));
      await expect(
        runWiringCli(['--overlay', 'aks', '--env-file', join(dir, 'azure.env')], {
          root: repoRoot,
          write: () => undefined,
        }),
      ).rejects.toThrow(/data\.frontendClientId/);
    });
  },
);
