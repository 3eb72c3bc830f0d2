import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identitiesWith } from '@wi/identities';
import {
  MIN_KUBECTL_MINOR,
  type RenderedOverlay,
  findKubectl,
  kustomize,
  readEnvFile,
} from '@wi/wiring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  aksExampleEnv,
  identities,
  k8sDir,
  renderBase,
  renderOverlays,
  requireKubectl,
  skipKubectlTests,
} from './support/k8s.js';

const EXPECTED_KINDS = [
  'Deployment',
  'HorizontalPodAutoscaler',
  'Ingress',
  'Namespace',
  'NetworkPolicy',
  'PodDisruptionBudget',
  'Service',
  'ServiceAccount',
];

describe.skipIf(skipKubectlTests)('kubectl kustomize renders every overlay', () => {
  let overlays: RenderedOverlay[];
  beforeAll(() => {
    overlays = renderOverlays();
  });

  it(`uses kubectl 1.${MIN_KUBECTL_MINOR} or newer`, () => {
    const kubectl = requireKubectl();
    expect(kubectl.major * 100 + kubectl.minor).toBeGreaterThanOrEqual(100 + MIN_KUBECTL_MINOR);
  });

  it('renders the base on its own', () => {
    const kinds = new Set(renderBase().map((object) => object.kind));
    expect([...kinds].sort()).toEqual(EXPECTED_KINDS);
  });

  it.each(['aks', 'local'])('renders the %s overlay with every kind and nothing else', (name) => {
    const { objects } = overlays.find((overlay) => overlay.overlay === name)!;
    expect([...new Set(objects.map((object) => object.kind))].sort()).toEqual(EXPECTED_KINDS);
    // The env file's ConfigMap is local-config: input to the replacements, never applied.
    expect(objects.filter((object) => object.kind === 'ConfigMap')).toEqual([]);
    for (const object of objects.filter((o) => o.kind !== 'Namespace')) {
      expect(object.metadata?.namespace, `${object.kind} ${object.metadata?.name}`).toBe(
        'doc-intake',
      );
    }
  });

  it.each(['aks', 'local'])('leaves no placeholder of the base in the %s overlay', (name) => {
    const { objects } = overlays.find((overlay) => overlay.overlay === name)!;
    const text = JSON.stringify(objects);
    expect(text).not.toContain('set-by-overlay');
    expect(text).not.toContain('registry.invalid');
  });

  it('takes images from the env file: registry, name, tag and the digest of the build', () => {
    const aks = overlays.find((overlay) => overlay.overlay === 'aks')!;
    const images = aks.objects
      .filter((object) => object.kind === 'Deployment')
      .map((object) => JSON.stringify(object).match(/"image":"([^"]+)"/)![1]);
    // doc-intake-<service> of each service of the declaration, by its <service>ImageVersion.
    const example = readEnvFile(aksExampleEnv);
    expect(images.sort()).toEqual(
      identitiesWith(identities)
        .identities.map(
          ({ service }) =>
            `${example.acrLoginServer}/doc-intake-${service}:${example[`${service}ImageVersion`]}`,
        )
        .sort(),
    );
    expect(images).toContain(
      'acrfakeexample.azurecr.io/doc-intake-frontend:0.0.0-example@sha256:fa4efa4efa4efa4efa4efa4efa4efa4efa4efa4efa4efa4efa4efa4efa4e0001',
    );
    // By digest in AKS: every image reference pins the build (tag@sha256:<64 hex>).
    for (const image of images) expect(image).toMatch(/:[\w.-]+@sha256:[0-9a-f]{64}$/);
    // A registry with a port (the local one) must not be mistaken for the tag.
    const local = overlays.find((overlay) => overlay.overlay === 'local')!;
    expect(JSON.stringify(local.objects)).toContain('"localhost:5001/doc-intake-frontend:dev"');
  });

  describe('refuses to render on a broken env file, rather than deploy a placeholder', () => {
    let copy: string;
    beforeAll(() => {
      copy = mkdtempSync(join(tmpdir(), 'k8s-broken-'));
      cpSync(k8sDir, copy, { recursive: true });
    });
    afterAll(() => rmSync(copy, { recursive: true, force: true }));
    const render = () => kustomize(requireKubectl(), join(copy, 'overlays', 'aks'));

    it('without azure.env (scripts/write-aks-env.sh not run)', () => {
      rmSync(join(copy, 'overlays', 'aks', 'azure.env'), { force: true });
      expect(render).toThrow(/azure\.env/);
    });

    it('without one Bicep output (names the missing key)', async () => {
      const { readFileSync } = await import('node:fs');
      const lines = readFileSync(aksExampleEnv, 'utf8').split('\n');
      writeFileSync(
        join(copy, 'overlays', 'aks', 'azure.env'),
        lines.filter((line) => !line.startsWith('backendClientId=')).join('\n'),
      );
      expect(render).toThrow(/data\.backendClientId/);
    });
  });
});

describe('without kubectl', () => {
  it('a kubectl that is not there is reported as missing, not as an error', () => {
    expect(findKubectl('/nonexistent/kubectl')).toBeUndefined();
  });
});
