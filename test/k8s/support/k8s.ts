import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseIdentities } from '@wi/identities';
import {
  type Kubectl,
  type KubernetesObject,
  type RenderedOverlay,
  assertSupported,
  findKubectl,
  kustomize,
  renderOverlay,
  type IDeployment,
  type IContainer,
  type IPodSpec,
} from '@wi/wiring';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
export const k8sDir = join(repoRoot, 'k8s');
export const aksExampleEnv = join(k8sDir, 'overlays', 'aks', 'azure.env.example');
export const localEnv = join(k8sDir, 'overlays', 'local', 'local.env');

export const identities = parseIdentities(
  JSON.parse(readFileSync(join(repoRoot, 'infra', 'identities.json'), 'utf8')),
);

const kubectl = findKubectl();

/**
 * Like the browser tests: where kubectl is missing these suites are skipped, and the summary
 * lists them by name; in CI (CI=true) a missing kubectl fails them instead.
 */
export const skipKubectlTests = !kubectl && process.env.CI !== 'true';

export function requireKubectl(): Kubectl {
  if (!kubectl) {
    throw new Error(
      'kubectl not found on PATH (or $KUBECTL): install kubectl >= 1.30; in CI, `. ../shared/ci/bootstrap.sh kubectl`',
    );
  }
  assertSupported(kubectl);
  return kubectl;
}

/** Both overlays, rendered the way a user would: aks with the committed example env file. */
export function renderOverlays(): RenderedOverlay[] {
  const cli = requireKubectl();
  return [
    renderOverlay(cli, { k8sDir, overlay: 'aks', envFile: aksExampleEnv }),
    renderOverlay(cli, { k8sDir, overlay: 'local' }),
  ];
}

export function renderBase(): KubernetesObject[] {
  return kustomize(requireKubectl(), join(k8sDir, 'base'));
}

/** A deep copy to mutate: every mutation test starts from the real rendered output. */
export function copy(objects: readonly KubernetesObject[]): KubernetesObject[] {
  return structuredClone([...objects]);
}

export function get(
  objects: readonly KubernetesObject[],
  kind: string,
  name: string,
): KubernetesObject {
  const found = objects.find((object) => object.kind === kind && object.metadata?.name === name);
  if (!found) throw new Error(`${kind} ${name} not rendered`);
  return found;
}

export function deployment(objects: readonly KubernetesObject[], name: string): IDeployment {
  return get(objects, 'Deployment', name) as unknown as IDeployment;
}

export function podSpec(objects: readonly KubernetesObject[], name: string): IPodSpec {
  return deployment(objects, name).spec!.template.spec!;
}

export function container(objects: readonly KubernetesObject[], name: string): IContainer {
  return podSpec(objects, name).containers.find((c) => c.name === name)!;
}

export function envValue(c: IContainer, name: string): string | undefined {
  return c.env?.find((variable) => variable.name === name)?.value;
}
