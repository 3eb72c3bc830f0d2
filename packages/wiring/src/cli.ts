import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { type IdentitiesFile, loadIdentities } from '@wi/identities';
import { deployWorkflowProblems } from './deploy-workflow.js';
import { formatLinks } from './format.js';
import {
  KEDA_ENV_EXAMPLE,
  KEDA_ENV_FILE,
  KEDA_FEATURE,
  KEDA_OVERLAY,
  isKedaOperatorIdentity,
  renderKedaOverlay,
} from './keda.js';
import { assertSupported, findKubectl } from './kubectl.js';
import { OVERLAYS, type OverlayName, renderOverlay } from './overlays.js';
import { checkWiring } from './wiring.js';

export interface CliOptions {
  /** The repository root (k8s/ and infra/ are found from here). */
  root: string;
  write?: (line: string) => void;
}

const USAGE = `usage: check-wiring [--overlay aks|local|aks-keda]... [--env-file <path>]

Renders each overlay with kubectl kustomize and checks every identity of infra/identities.json
against it: namespace, ServiceAccount, client-id annotation = the Bicep output, the Deployment
that uses it, the pod label, and the federated credential's subject and audience.
  --overlay   only this overlay (repeatable; default: all). aks-keda also checks KEDA's identity
              (feature "keda" in infra/identities.json) against its TriggerAuthentication and
              ScaledObject
  --env-file  the env file for the aks overlay (default: k8s/overlays/aks/azure.env, else the
              committed azure.env.example with fake values)`;

/** Every overlay `pnpm check:wiring` checks by default. */
export const CHECKED_OVERLAYS = [...Object.keys(OVERLAYS), KEDA_OVERLAY] as const;

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
  const withKeda = requested.includes(KEDA_OVERLAY);
  const overlays = requested.filter((name) => name !== KEDA_OVERLAY) as OverlayName[];
  const unknown = overlays.filter((name) => !(name in OVERLAYS));
  if (unknown.length > 0) {
    write(`unknown overlay ${unknown.join(', ')}; known: ${Object.keys(OVERLAYS).join(', ')}`);
    return 2;
  }

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
  if (withKeda) failed += checkKedaOverlay(kubectl, options.root, identities, args, write);
  failed += checkDeployWorkflow(options.root, identities, write);
  write(
    failed === 0
      ? `\nevery link holds (${relative(options.root, identitiesFile)} ↔ k8s/)`
      : `\n${failed} broken link${failed === 1 ? '' : 's'}`,
  );
  return failed === 0 ? 0 : 1;
}

/**
 * overlays/aks-keda: overlays/aks with KEDA, so every identity, the services' and KEDA's (feature
 * "keda", federated with the add-on's kube-system/keda-operator), the latter against the
 * TriggerAuthentication and ScaledObject it renders. Skipped, saying so, without the overlay; an
 * overlay without KEDA's identity in the file is a broken link. Returns the number of broken links.
 */
function checkKedaOverlay(
  kubectl: NonNullable<ReturnType<typeof findKubectl>>,
  root: string,
  identities: IdentitiesFile,
  args: { 'env-file'?: string },
  write: (line: string) => void,
): number {
  const k8sDir = join(root, 'k8s');
  const overlayDir = join(k8sDir, 'overlays', KEDA_OVERLAY);
  if (!existsSync(overlayDir)) {
    write(`k8s/overlays/${KEDA_OVERLAY}: skipped (no such overlay)`);
    return 0;
  }
  if (!identities.identities.some(isKedaOperatorIdentity)) {
    write(
      `k8s/overlays/${KEDA_OVERLAY}\n  ✗ infra/identities.json has an identity with "feature": "${KEDA_FEATURE}"\n      fix:   add KEDA's identity (id-keda, kube-system/keda-operator), or delete the overlay`,
    );
    return 1;
  }
  const azure = aksEnvFile(k8sDir, args['env-file']);
  const kedaExample = !existsSync(join(overlayDir, KEDA_ENV_FILE));
  const rendered = renderKedaOverlay(kubectl, {
    k8sDir,
    ...(azure ? { azureEnvFile: azure.path } : {}),
    ...(kedaExample ? { kedaEnvFile: join(overlayDir, KEDA_ENV_EXAMPLE) } : {}),
  });
  const sources = rendered.envFiles.map((file) => relative(root, file)).join(' + ');
  const fake = azure?.example || kedaExample;
  write(`k8s/overlays/${KEDA_OVERLAY} with ${sources}${fake ? ' (fake example values)' : ''}`);
  const links = checkWiring({
    identities,
    features: [KEDA_FEATURE],
    objects: rendered.objects,
    outputs: rendered.outputs,
  });
  write(formatLinks(links));
  return links.filter((link) => !link.ok).length;
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
