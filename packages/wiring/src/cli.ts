import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { type IdentitiesFile, loadIdentities } from '@wi/identities';
import { deployWorkflowProblems } from './deploy-workflow.js';
import { formatLinks } from './format.js';
import { kedaWiring } from './keda.js'; // [keda]
import { assertSupported, findKubectl } from './kubectl.js';
import { OVERLAYS, type OverlayName, renderOverlay } from './overlays.js';
import { type WiringFeature, checkWiring } from './wiring.js';

export interface CliOptions {
  /** The repository root (k8s/ and infra/ are found from here). */
  root: string;
  write?: (line: string) => void;
}

/** The optional features, each with its own overlay and module; one line each. */
const FEATURES: readonly WiringFeature[] = [
  kedaWiring, // [keda]
];

/** Every overlay `pnpm check:wiring` checks by default. */
export const CHECKED_OVERLAYS: readonly string[] = [
  ...Object.keys(OVERLAYS),
  ...FEATURES.map((feature) => feature.overlay),
];

const USAGE = `usage: check-wiring [--overlay ${CHECKED_OVERLAYS.join('|')}]... [--env-file <path>]

Renders each overlay with kubectl kustomize and checks every identity of infra/identities.json
against it: namespace, ServiceAccount, client-id annotation = the Bicep output, the Deployment
that uses it, the pod label, and the federated credential's subject and audience.
  --overlay   only this overlay (repeatable; default: all). The overlay of an optional feature
              also checks the identities of that feature ("feature" in infra/identities.json)
  --env-file  the env file for the aks overlay (default: k8s/overlays/aks/azure.env, else the
              committed azure.env.example with fake values)`;

/** `pnpm check:wiring`. Returns the exit code: 0 all linked, 1 a broken link, 2 cannot check. */
export async function runWiringCli(argv: string[], options: CliOptions): Promise<number> {
  const write = options.write ?? ((line: string) => console.log(line));
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        overlay: { type: 'string', multiple: true },
        'env-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    write(USAGE);
    return 0;
  }
  const requested = args.overlay ?? [...CHECKED_OVERLAYS];
  const unknown = requested.filter((name) => !CHECKED_OVERLAYS.includes(name));
  if (unknown.length > 0) {
    write(`unknown overlay ${unknown.join(', ')}; known: ${CHECKED_OVERLAYS.join(', ')}`);
    return 2;
  }
  const overlays = requested.filter((name) => name in OVERLAYS) as OverlayName[];
  const features = FEATURES.filter((feature) => requested.includes(feature.overlay));

  const kubectl = findKubectl();
  if (!kubectl) {
    write('kubectl not found: install kubectl >= 1.30 (it includes kustomize), or set KUBECTL.');
    return 2;
  }
  assertSupported(kubectl);
  const identitiesFile = join(options.root, 'infra', 'identities.json');
  const identities = await loadIdentities(identitiesFile);
  const k8sDir = join(options.root, 'k8s');

  let failed = 0;
  for (const overlay of overlays) {
    const envFile = overlay === 'aks' ? aksEnvFile(k8sDir, args['env-file']) : undefined;
    const rendered = renderOverlay(kubectl, { k8sDir, overlay, envFile: envFile?.path });
    const source = relative(options.root, rendered.envFile);
    write(
      `k8s/overlays/${overlay} with ${source}${envFile?.example ? ' (fake example values)' : ''}`,
    );
    const links = checkWiring({ identities, objects: rendered.objects, outputs: rendered.outputs });
    write(formatLinks(links));
    failed += links.filter((link) => !link.ok).length;
  }
  for (const feature of features) {
    failed += checkFeatureOverlay(feature, kubectl, options.root, identities, args, write);
  }
  failed += unknownFeatures(identities, write);
  failed += checkDeployWorkflow(options.root, identities, write);
  write(
    failed === 0
      ? `\nevery link holds (${relative(options.root, identitiesFile)} ↔ k8s/)`
      : `\n${failed} broken link${failed === 1 ? '' : 's'}`,
  );
  return failed === 0 ? 0 : 1;
}

/**
 * The overlay of an optional feature: overlays/aks with the feature, so every identity, the
 * services' and the feature's, the latter checked by the feature's module. Skipped, saying so,
 * without the overlay; an overlay without an identity of its feature in the file is a broken link.
 * Returns the number of broken links.
 */
function checkFeatureOverlay(
  feature: WiringFeature,
  kubectl: NonNullable<ReturnType<typeof findKubectl>>,
  root: string,
  identities: IdentitiesFile,
  args: { 'env-file'?: string },
  write: (line: string) => void,
): number {
  const k8sDir = join(root, 'k8s');
  const label = `k8s/overlays/${feature.overlay}`;
  if (!existsSync(join(k8sDir, 'overlays', feature.overlay))) {
    write(`${label}: skipped (no such overlay)`);
    return 0;
  }
  if (!identities.identities.some((identity) => identity.feature === feature.name)) {
    write(
      `${label}\n  ✗ infra/identities.json has an identity with "feature": "${feature.name}"\n      fix:   add the feature's identity, or delete the overlay`,
    );
    return 1;
  }
  const azure = aksEnvFile(k8sDir, args['env-file']);
  const rendered = feature.render(kubectl, k8sDir, azure?.path);
  const sources = rendered.envFiles.map((file) => relative(root, file)).join(' + ');
  const fake = azure?.example || rendered.example;
  write(`${label} with ${sources}${fake ? ' (fake example values)' : ''}`);
  const links = checkWiring({
    identities,
    features: [feature],
    objects: rendered.objects,
    outputs: rendered.outputs,
  });
  write(formatLinks(links));
  return links.filter((link) => !link.ok).length;
}

/**
 * An identity whose feature no module here knows would be checked nowhere (and infra/main.bicep
 * refuses it): a broken link. Returns the number of such identities.
 */
function unknownFeatures(identities: IdentitiesFile, write: (line: string) => void): number {
  const unknown = identities.identities.filter(
    (identity) =>
      identity.feature !== undefined &&
      !FEATURES.some((feature) => feature.name === identity.feature),
  );
  for (const identity of unknown) {
    write(
      `infra/identities.json\n  ✗ identities[service=${identity.service}] has "feature": "${identity.feature}", which no overlay turns on\n      fix:   drop the "feature", or register the feature's wiring module in packages/wiring/src/cli.ts`,
    );
  }
  return unknown.length;
}

/**
 * The deploy identities (deployIdentities) against .github/workflows/deploy.yml: OIDC sign-in from
 * the environment their federated credential trusts, no secret. Returns the number of problems.
 */
function checkDeployWorkflow(
  root: string,
  identities: IdentitiesFile,
  write: (line: string) => void,
): number {
  const declared = identities.deployIdentities ?? [];
  const workflow = join(root, '.github', 'workflows', 'deploy.yml');
  if (declared.length === 0 || !existsSync(workflow)) {
    write('.github/workflows/deploy.yml: skipped (no deploy identity or no workflow)');
    return 0;
  }
  const problems = deployWorkflowProblems(readFileSync(workflow, 'utf8'), declared);
  write('.github/workflows/deploy.yml');
  write(
    problems.length === 0
      ? `  ✓ signs in as ${declared.map((identity) => identity.managedIdentityName).join(', ')} by OIDC from environment ${declared.map((identity) => identity.federatedCredential.environment).join(', ')}, with no secret`
      : problems.map((problem) => `  ✗ ${problem}`).join('\n'),
  );
  return problems.length;
}

/** The real env file when scripts/write-aks-env.sh has written one, else the example. */
function aksEnvFile(
  k8sDir: string,
  explicit: string | undefined,
): { path: string; example: boolean } | undefined {
  if (explicit) return { path: explicit, example: false };
  const dir = join(k8sDir, 'overlays', 'aks');
  if (existsSync(join(dir, OVERLAYS.aks.envFile))) return undefined;
  return { path: join(dir, OVERLAYS.aks.example), example: true };
}
