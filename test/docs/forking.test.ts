// docs/forking.md, done: a third service, `reporter`, gets its own identity by the steps of the
// guide, on copies of infra/ and k8s/ (the working tree is never written to). The snippets come
// from the page itself, so the guide and this test cannot drift apart.
//   1. the identities file alone: the local cloud exchanges the reporter's token and enforces
//      its roles;
//   2. Bicep: the build of infra/ with that file creates the identity, its federated credential
//      and its role assignments, and says what step 2 of the guide adds;
//   3. Kustomize: `pnpm check:wiring` names exactly the missing pieces until the copy of k8s/
//      has them.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretClient } from '@azure/keyvault-secrets';
import { BlobServiceClient } from '@azure/storage-blob';
import { type LocalCloud } from '@wi/local-azure';
import {
  type IdentitiesFile,
  type ServiceIdentity,
  localClientId,
  parseIdentities,
} from '@wi/identities';
import {
  CHECKED_OVERLAYS,
  type KubernetesObject,
  checkRestricted,
  checkWiring,
  renderOverlay,
  runWiringCli,
} from '@wi/wiring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { type ArmObject, show } from '../infra/support/arm-expression.js';
import {
  type DeploymentResult,
  created,
  dryRun,
  runtimeReference,
} from '../infra/support/arm-deployment.js';
import { bicep, compileInfra, infraDir, skipBicepTests } from '../infra/support/bicep-cli.js';
import {
  expectedScope,
  federatedCredentialProblems,
  identityResource,
  resourceTypes,
  roleAssignmentProblems,
} from '../infra/support/identity-checks.js';
import { everythingOn, testTarget } from '../infra/support/infra-deployment.js';
import { k8sDir, requireKubectl, skipKubectlTests } from '../k8s/support/k8s.js';
import { identitiesFile as realIdentitiesFile, startLocalCloud } from '../support/local-stack.js';
import { serviceCredential } from '../support/seed.js';
import { repoRoot, snippet } from './support/markdown.js';

const guide = join(repoRoot, 'docs', 'forking.md');
const reporter = JSON.parse(snippet(guide, 'reporter-identity')) as ServiceIdentity;

/** infra/identities.json with the reporter's entry appended: step 1 of the guide. */
function withReporter(): { json: Record<string, unknown>; file: IdentitiesFile } {
  const json = JSON.parse(readFileSync(realIdentitiesFile, 'utf8')) as {
    identities: unknown[];
    resources: { keyVault: { secrets: string[] } };
  };
  json.identities.push(reporter);
  // "declare it too": the guide's sentence after the snippet.
  json.resources.keyVault.secrets.push('reporter-api-key');
  return { json, file: parseIdentities(json, 'identities.json (copy)') };
}

const { json: identitiesJson, file: identities } = withReporter();
const work = mkdtempSync(join(tmpdir(), 'forking-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('step 1: the identities file alone gives the local cloud a third identity', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    const file = join(work, 'identities.json');
    writeFileSync(file, JSON.stringify(identitiesJson, null, 2));
    cloud = await startLocalCloud({ identitiesFile: file });
  });
  afterAll(async () => cloud?.stop());

  it('exchanges the reporter’s projected token at the token endpoint and enforces its two roles', async () => {
    // Exactly what the webhook would inject into a reporter pod.
    const env = cloud.env('reporter');
    expect(env.AZURE_CLIENT_ID).toBe(localClientId(reporter));
    const credential = serviceCredential(cloud, 'reporter');

    // Storage Blob Data Reader on `uploads`: listing is allowed, writing is not.
    const uploads = new BlobServiceClient(
      env.AZURE_STORAGE_BLOB_ENDPOINT!,
      credential,
    ).getContainerClient('uploads');
    await expect(uploads.listBlobsFlat().byPage({ maxPageSize: 1 }).next()).resolves.toBeDefined();
    await expect(uploads.getBlockBlobClient('report.txt').upload('x', 1)).rejects.toMatchObject({
      statusCode: 403,
      code: 'AuthorizationPermissionMismatch',
    });

    // Key Vault Secrets User on its own secret only.
    const secrets = new SecretClient(env.AZURE_KEYVAULT_URL!, credential);
    // The local cloud created it, with a random value, because the declaration lists it.
    await expect(secrets.getSecret('reporter-api-key')).resolves.toMatchObject({
      name: 'reporter-api-key',
      value: expect.stringMatching(/^[\w-]{43}$/),
    });
    await expect(secrets.getSecret('backend-signing-key')).rejects.toMatchObject({
      statusCode: 403,
      code: 'Forbidden',
    });

    // Every access token came from the federated exchange of the reporter's service account token.
    const exchanges = cloud.sts.exchanges().filter((e) => e.clientId === env.AZURE_CLIENT_ID);
    expect(exchanges.length).toBeGreaterThanOrEqual(2);
    for (const exchange of exchanges) {
      expect(exchange).toMatchObject({
        outcome: 'success',
        assertionSubject: 'system:serviceaccount:doc-intake:reporter',
        assertionAudience: 'api://AzureADTokenExchange',
        assertionIssuer: cloud.sts.issuerUrl,
      });
    }
  });
});

/** `bicep build` of a copy of infra/, dry-run as Resource Manager would deploy it. */
async function buildAndDryRun(dir: string): Promise<DeploymentResult> {
  const out = join(dir, 'out');
  const run = await bicep(['build', 'main.bicep', '--outdir', out], dir);
  const findings = [
    ...run.diagnostics.map((d) => `${d.file}:${d.line} ${d.level} ${d.code}: ${d.message}`),
    ...run.otherOutput,
  ];
  expect(findings).toEqual([]);
  expect(run.status).toBe(0);
  const template = JSON.parse(readFileSync(join(out, 'main.json'), 'utf8')) as ArmObject;
  return dryRun(template, everythingOn, { target: testTarget() });
}

describe.skipIf(skipBicepTests)('step 2: Bicep picks the identity up from the file', () => {
  it('creates id-reporter, its federated credential and its role assignments; the guide’s additions create the secret and the output', async () => {
    const dir = join(work, 'infra');
    cpSync(infraDir, dir, { recursive: true });
    writeFileSync(join(dir, 'identities.json'), JSON.stringify(identitiesJson, null, 2));

    // The real infra/ as it is: whatever it reports (nothing, when main is green) stays as it is.
    const original = dryRun((await compileInfra()).main, everythingOn, { target: testTarget() });
    const real = parseIdentities(JSON.parse(readFileSync(realIdentitiesFile, 'utf8')));
    const baseline = [
      ...roleAssignmentProblems(original, real),
      ...federatedCredentialProblems(original, real),
    ];
    const problems = (result: DeploymentResult) =>
      [
        ...roleAssignmentProblems(result, identities),
        ...federatedCredentialProblems(result, identities),
      ].sort();

    // Step 1 only: everything but the secret the Key Vault role is scoped to.
    const first = await buildAndDryRun(dir);
    expect(identityResource(first, reporter).name).toBe('id-reporter');
    const secretScope = reporter.roleAssignments.find((r) => r.scope.resource === 'keyVault')!;
    expect(problems(first)).toEqual(
      [
        ...baseline,
        `reporter: Key Vault Secrets User on ${expectedScope(first, secretScope.scope)}: the scope is not created by this deployment`,
      ].sort(),
    );
    expect(first.outputs.reporterClientId).toBeUndefined();

    // Step 2: the guide's parameter and output, and the secret in the keyVault module's secretValues.
    const main = join(dir, 'main.bicep');
    const anchor = "'backend-signing-key': backendSigningKey";
    const text = readFileSync(main, 'utf8');
    expect(text, `main.bicep no longer has ${anchor}: update docs/forking.md`).toContain(anchor);
    writeFileSync(
      main,
      `${text.replace(anchor, `${anchor}\n      'reporter-api-key': reporterApiKey`)}\n${snippet(guide, 'reporter-bicep')}\n`,
    );
    const second = await buildAndDryRun(dir);
    expect(problems(second)).toEqual([...baseline].sort());
    const uami = identityResource(second, reporter);
    expect(show(second.outputs.reporterClientId!)).toBe(
      show(runtimeReference(uami.id, 'clientId')),
    );

    // Nothing else changed: compared with the real infra/, exactly these resources are new.
    const ids = (result: DeploymentResult) =>
      new Set(result.resources.filter((r) => !r.existing).map((r) => `${r.type} ${r.name}`));
    const before = ids(original);
    const added = [...ids(second)].filter((id) => !before.has(id)).sort();
    const assignments = created(second, resourceTypes.roleAssignment).filter(
      (r) =>
        show(r.properties.principalId ?? null) === show(runtimeReference(uami.id, 'principalId')),
    );
    expect(assignments.map((r) => r.scope).sort()).toEqual(
      reporter.roleAssignments.map((r) => expectedScope(second, r.scope)).sort(),
    );
    expect(added).toEqual(
      [
        `${resourceTypes.identity} id-reporter`,
        `${resourceTypes.federatedCredential} id-reporter/fic-reporter`,
        ...assignments.map((r) => `${resourceTypes.roleAssignment} ${r.name}`),
        `Microsoft.KeyVault/vaults/secrets ${onlyName(second, resourceTypes.keyVault)}/reporter-api-key`,
      ].sort(),
    );
    expect([...before].filter((id) => !ids(second).has(id))).toEqual([]);
  });
});

function onlyName(result: DeploymentResult, type: string): string {
  const [only, ...more] = created(result, type);
  if (!only || more.length) throw new Error(`expected one ${type}`);
  return only.name;
}

/** Edits a YAML file of the copy in place. */
function editYaml(path: string, edit: (doc: ReturnType<typeof parseDocument>) => void): void {
  const doc = parseDocument(readFileSync(path, 'utf8'));
  edit(doc);
  writeFileSync(path, doc.toString());
}

describe.skipIf(skipKubectlTests)('step 3: the wiring check names what Kustomize lacks', () => {
  it('reports exactly the reporter’s missing pieces until the copy of k8s/ has them', async () => {
    const kubectl = requireKubectl();
    const root = join(work, 'repo');
    const k8s = join(root, 'k8s');
    mkdirSync(join(root, 'infra'), { recursive: true });
    writeFileSync(join(root, 'infra', 'identities.json'), JSON.stringify(identitiesJson, null, 2));
    cpSync(k8sDir, k8s, { recursive: true });
    // A real azure.env or keda.env (git-ignored) of whoever runs this would take the example's place.
    rmSync(join(k8s, 'overlays', 'aks', 'azure.env'), { force: true });
    rmSync(join(k8s, 'overlays', 'aks-keda', 'keda.env'), { force: true });
    const envExample = join(k8s, 'overlays', 'aks', 'azure.env.example');

    const render = () =>
      renderOverlay(kubectl, { k8sDir: k8s, overlay: 'aks', envFile: envExample });
    const broken = (file: IdentitiesFile) => {
      const rendered = render();
      return checkWiring({ identities: file, objects: rendered.objects, outputs: rendered.outputs })
        .filter((link) => !link.ok)
        .map((link) => `${link.identity} ${link.check}`);
    };
    const reporterLinks = () => {
      const rendered = render();
      return checkWiring({
        identities,
        objects: rendered.objects,
        outputs: rendered.outputs,
      }).filter((link) => link.identity === 'reporter' && !link.ok);
    };
    // The real identities file on the unchanged copy: whatever fails there (nothing, when main
    // is green) is not the reporter's doing and stays as it is.
    const baseline = broken(parseIdentities(JSON.parse(readFileSync(realIdentitiesFile, 'utf8'))));

    // Step 1 only: five links of the reporter, and nothing changes for the other services.
    expect(broken(identities)).toEqual([
      ...baseline,
      'reporter service-account',
      'reporter client-id',
      'reporter deployment',
      'reporter pod-label',
      'reporter webhook-variables',
    ]);
    const missing = reporterLinks();
    expect(missing[0]!.fix).toContain('k8s/base/reporter/service-account.yaml');
    expect(missing[2]!.fix).toContain('k8s/base/reporter/deployment.yaml in namespace doc-intake');

    // Step 3, items 0–2: the guide's copy commands, run as written, then the two hand edits.
    execFileSync('bash', ['-euc', snippet(guide, 'copy-backend-manifests')], { cwd: root });
    const unused = [
      'AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE',
      'AZURE_COSMOS_ENDPOINT',
      'DOCUMENTS_QUEUE',
      'COSMOS_DATABASE',
      'COSMOS_CONTAINER',
      'WORKER_DRAIN_TIMEOUT_MS',
      'API_AUDIENCE',
    ];
    editYaml(join(k8s, 'base', 'reporter', 'deployment.yaml'), (doc) => {
      const path = ['spec', 'template', 'spec', 'containers', 0, 'env'];
      const env = doc.getIn(path, false) as { toJSON(): { name: string }[] };
      doc.setIn(
        path,
        env.toJSON().filter((variable) => !unused.includes(variable.name)),
      );
    });
    editYaml(join(k8s, 'base', 'kustomization.yaml'), (doc) => {
      doc.addIn(['resources'], 'reporter/service-account.yaml');
      doc.addIn(['resources'], 'reporter/deployment.yaml');
    });
    // Left: the two annotations the component fills from the Bicep outputs.
    expect(broken(identities)).toEqual([...baseline, 'reporter client-id', 'reporter tenant-id']);
    const annotations = reporterLinks();
    expect(annotations[0]!.problem).toBe('the env file has no reporterClientId');
    expect(annotations[1]!.problem).toMatch(/^it is 'set-by-overlay', but tenantId is /);

    // Items 3 and 4: the client id replacement from the guide, the reporter as a target of the
    // replacements it shares with the backend, and the key in both env files.
    editYaml(join(k8s, 'components', 'azure-outputs', 'kustomization.yaml'), (doc) => {
      const replacements = doc.get('replacements') as { toJSON(): Replacement[] };
      const list = replacements.toJSON();
      for (const replacement of list) addReporterTarget(replacement);
      list.push(
        ...(parseDocument(snippet(guide, 'reporter-replacement')).toJSON() as Replacement[]),
      );
      doc.set('replacements', list);
    });
    const fakeClientId = 'dddddddd-dddd-4ddd-8ddd-ddddddddfa4e';
    writeFileSync(
      envExample,
      `${readFileSync(envExample, 'utf8')}reporterClientId=${fakeClientId}\n`,
    );
    const localEnv = join(k8s, 'overlays', 'local', 'local.env');
    writeFileSync(
      localEnv,
      `${readFileSync(localEnv, 'utf8')}reporterClientId=${localClientId(reporter)}\n`,
    );
    expect(broken(identities)).toEqual(baseline);

    const objects = render().objects.filter((o) => o.metadata?.name === 'reporter');
    expect(objects.map((o) => o.kind).sort()).toEqual(['Deployment', 'ServiceAccount']);
    expect(JSON.stringify(objects)).not.toMatch(/set-by-overlay|registry\.invalid/);
    expect(annotation(objects, 'azure.workload.identity/client-id')).toBe(fakeClientId);
    expect(checkRestricted(objects)).toEqual([]);

    // `pnpm check:wiring` on the copy, every overlay (aks-keda is aks plus KEDA, so the reporter
    // is there too): every link of the reporter holds.
    const lines: string[] = [];
    await runWiringCli([], { root, write: (line) => lines.push(...line.split('\n')) });
    const blocks = reporterBlocks(lines);
    expect(blocks).toHaveLength(CHECKED_OVERLAYS.length);
    for (const block of blocks) {
      expect(block.length).toBeGreaterThan(5);
      expect(block.filter((line) => !line.trimStart().startsWith('✓'))).toEqual([]);
    }
  });
});

interface Replacement {
  source: { fieldPath: string };
  targets: { select: { kind: string; name: string }; fieldPaths: string[] }[];
}

/** "Add the reporter as a target of the replacements it shares with the backend" (step 3, item 3). */
function addReporterTarget(replacement: Replacement): void {
  const shared = [
    'data.tenantId',
    'data.keyVaultUrl',
    'data.storageBlobEndpoint',
    'data.uploadsContainer',
    'data.imageTag',
    'data.acrLoginServer',
  ];
  if (!shared.includes(replacement.source.fieldPath)) return;
  const backend = replacement.targets.find((target) => target.select.name === 'backend');
  if (!backend) throw new Error(`${replacement.source.fieldPath} has no backend target`);
  replacement.targets.push(
    JSON.parse(
      JSON.stringify(backend).replaceAll('backend', 'reporter'),
    ) as Replacement['targets'][number],
  );
}

/** The lines under the `reporter` heading of each overlay in `pnpm check:wiring`'s output. */
function reporterBlocks(lines: string[]): string[][] {
  const blocks: string[][] = [];
  let current: string[] | undefined;
  for (const line of lines) {
    if (/^ {2}\S/.test(line)) {
      current = line.trim() === 'reporter' ? [] : undefined;
      if (current) blocks.push(current);
    } else if (/^\S/.test(line) || line.trim() === '') current = undefined;
    else current?.push(line);
  }
  return blocks;
}

function annotation(objects: KubernetesObject[], key: string): string | undefined {
  return objects.find((o) => o.kind === 'ServiceAccount')?.metadata?.annotations?.[key];
}
