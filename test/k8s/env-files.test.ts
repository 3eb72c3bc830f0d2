import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LOCAL_TENANT_ID } from '@wi/local-azure';
import {
  identitiesWith,
  localApiAppId,
  localApiIdentifierUri,
  localClientId,
} from '@wi/identities';
import {
  GUID,
  KEDA_ENV_EXAMPLE, // [keda]
  KEDA_OVERLAY, // [keda]
  clientIdOutput,
  parseEnvFile,
  parseManifests,
  readEnvFile,
} from '@wi/wiring';
import { afterAll, describe, expect, it } from 'vitest';
import { aksExampleEnv, identities, k8sDir, localEnv, repoRoot } from './support/k8s.js';

const example = readEnvFile(aksExampleEnv);
const local = readEnvFile(localEnv);
/** The services' identities: what overlays/aks and overlays/local wire (a feature's: its own). */
const services = identitiesWith(identities).identities;
// [keda] begin
const kedaExample = readEnvFile(join(k8sDir, 'overlays', KEDA_OVERLAY, KEDA_ENV_EXAMPLE));
const keda = identities.identities.find((identity) => identity.feature === 'keda')!;
// [keda] end
/** The committed example env files of the AKS overlays (a feature's overlay adds its own). */
const aksExamples = [example];
aksExamples.push(kedaExample); // [keda]

// What scripts/deploy-app.sh learns at deploy time rather than from Bicep: the tag, the digests
// of the registry build, the API app registration (Microsoft Graph) and the Ingress certificate.
// One image digest per service, an audience and scope per service that declares an api.
const variable = (service: string) => service.toUpperCase().replaceAll('-', '_');
const deployTimeKeys = [
  'imageTag',
  ...services.map((identity) => `${identity.service}ImageVersion`),
  ...services
    .filter((identity) => identity.api)
    .flatMap((identity) => [`${identity.service}ApiAudience`, `${identity.service}ApiScope`]),
  'ingressHost',
  'ingressCertificateUri',
];

/** The example's Bicep outputs: every key but the deploy-time ones. */
const exampleOutputs = () =>
  Object.fromEntries(Object.entries(example).filter(([key]) => !deployTimeKeys.includes(key)));

/** The deploy-time values of the example, as scripts/deploy-app.sh exports them. */
const exampleDeployTime = (): Record<string, string> => ({
  ...Object.fromEntries(
    services.map((identity) => [
      `${variable(identity.service)}_IMAGE_VERSION`,
      example[`${identity.service}ImageVersion`]!,
    ]),
  ),
  ...Object.fromEntries(
    services
      .filter((identity) => identity.api)
      .map((identity) => [
        `${variable(identity.service)}_API_AUDIENCE`,
        example[`${identity.service}ApiAudience`]!,
      ]),
  ),
  INGRESS_HOST: example.ingressHost!,
  INGRESS_CERTIFICATE_URI: example.ingressCertificateUri!,
});

/** The keys of one ConfigMap that a kustomization's replacements read: the Bicep outputs. */
function replacementSources(kustomization: string, configMap: string): string[] {
  const [file] = parseManifests(readFileSync(join(k8sDir, kustomization), 'utf8'));
  const { replacements = [] } = file as unknown as {
    replacements?: { source: { name: string; fieldPath: string } }[];
  };
  return replacements
    .filter(({ source }) => source.name === configMap)
    .map(({ source }) => source.fieldPath.replace(/^data\./, ''));
}

/** The shared component's sources, every overlay's. */
const componentSources = () =>
  replacementSources('components/azure-outputs/kustomization.yaml', 'azure-outputs');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('the env files: Bicep outputs in, nothing typed by hand', () => {
  it('each example and local.env hold exactly the outputs their overlay’s replacements use', () => {
    const shared = componentSources();
    // overlays/aks adds Application Insights, which the local cloud does not have.
    const aks = [
      ...shared,
      ...replacementSources('overlays/aks/kustomization.yaml', 'azure-outputs'),
    ];
    expect(Object.keys(example).sort()).toEqual([...new Set(aks)].sort());
    expect(Object.keys(local).sort()).toEqual([...new Set(shared)].sort());
    for (const identity of services) expect(shared).toContain(clientIdOutput(identity.service));
    // [keda] begin
    // overlays/aks-keda reads azure.env (above) and keda.env: KEDA's client id.
    const kedaSources = replacementSources(
      `overlays/${KEDA_OVERLAY}/kustomization.yaml`,
      'keda-outputs',
    );
    expect(Object.keys(kedaExample)).toEqual([...new Set(kedaSources)]);
    expect(kedaSources).toEqual([clientIdOutput(keda.service)]);
    // [keda] end
  });

  const bicep = join(repoRoot, 'infra', 'main.bicep');
  it.skipIf(!existsSync(bicep))('every other key is an output of infra/main.bicep', () => {
    const outputs = [...readFileSync(bicep, 'utf8').matchAll(/^output\s+(\w+)\s/gm)].map(
      (match) => match[1],
    );
    // A service's client id without an output of its own comes from workloadClientIds.
    const fromClientIds = outputs.includes('workloadClientIds')
      ? services.map((identity) => clientIdOutput(identity.service))
      : [];
    const fromBicep = aksExamples
      .flatMap((file) => Object.keys(file))
      .filter((key) => !deployTimeKeys.includes(key) && !fromClientIds.includes(key));
    expect(outputs).toEqual(expect.arrayContaining(fromBicep));
    expect(fromBicep.length).toBeGreaterThan(10);
  });

  it('pins each image to the digest of its build (tag@sha256:...)', () => {
    for (const key of services.map((identity) => `${identity.service}ImageVersion`)) {
      expect(example[key], key).toMatch(/^[\w][\w.-]*@sha256:[0-9a-f]{64}$/);
    }
  });

  it('the examples are obviously fake, and tell the identities apart', () => {
    const ids = [
      example.tenantId,
      ...services.map((i) => example[clientIdOutput(i.service)]),
      kedaExample[clientIdOutput(keda.service)], // [keda]
    ];
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]+fa4e$/);
    expect(new Set(ids).size).toBe(ids.length);
    for (const key of [
      'keyVaultUrl',
      'storageBlobEndpoint',
      'serviceBusFullyQualifiedNamespace',
      'cosmosEndpoint',
      'acrLoginServer',
      'applicationInsightsConnectionString',
    ]) {
      expect(example[key]).toMatch(/fake-?example/);
    }
    expect(example.applicationInsightsConnectionString).toMatch(
      /^InstrumentationKey=[0-9a-f-]+fa4e;/,
    );
  });

  it('local.env holds the local cloud’s own tenant, client ids and API audience', () => {
    expect(local.tenantId).toBe(LOCAL_TENANT_ID);
    expect(local.backendApiAudience).toBe(localApiAppId('backend'));
    expect(local.backendApiScope).toBe(`${localApiIdentifierUri('backend')}/.default`);
    for (const identity of services) {
      expect(local[clientIdOutput(identity.service)], identity.service).toBe(
        localClientId(identity),
      );
    }
  });

  it('the names the app uses are the ones its role assignments are scoped to', () => {
    const scopes = identities.identities.flatMap((identity) =>
      identity.roleAssignments.map((r) => r.scope),
    );
    const scoped = (resource: string, field: string) =>
      new Set(
        scopes
          .filter((s) => s.resource === resource)
          .map((s) => (s as Record<string, string>)[field]),
      );
    for (const env of [example, local]) {
      expect(scoped('storage', 'container')).toEqual(new Set([env.uploadsContainer]));
      expect(scoped('serviceBus', 'queue')).toEqual(new Set([env.documentsQueue]));
      expect(scoped('cosmos', 'database')).toEqual(new Set([env.cosmosDatabase]));
    }
  });

  it('no YAML under k8s/ contains a client id, tenant id or Azure host typed by hand', () => {
    const files = yamlFiles(k8sDir);
    expect(files.length).toBeGreaterThan(10);
    const guid = new RegExp(GUID.source.slice(1, -1), 'i');
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(guid);
      expect(text, file).not.toMatch(
        /\.(vault\.azure\.net|windows\.net|azurecr\.io|documents\.azure\.com)/,
      );
    }
  });

  it('parses the way kustomize does: comments skipped, value verbatim, duplicates refused', () => {
    expect(parseEnvFile('# c\n\nA=x=y\nB="q"\n')).toEqual({ A: 'x=y', B: '"q"' });
    expect(() => parseEnvFile('A=1\nA=2', 'f')).toThrow('f:2: duplicate key A');
    expect(() => parseEnvFile('nonsense', 'f')).toThrow('f:1: expected KEY=VALUE');
  });
});

describe('scripts/write-aks-env.sh', () => {
  const work = mkdtempSync(join(tmpdir(), 'write-aks-env-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  // [keda] begin
  const kedaOut = join(work, 'keda.env');
  const withKeda = { ENABLE_KEDA_AUTOSCALING: 'true', KEDA_ENV_FILE: kedaOut };
  // [keda] end

  /**
   * Runs the script against a stand-in `az` that prints these deployment outputs, with the
   * optional features off unless `features` (their environment variables) turns them on.
   */
  function run(
    outputs: Record<string, string>,
    features: Record<string, string> = {},
    deployTime: Record<string, string> = exampleDeployTime(),
  ) {
    const bin = join(work, 'bin');
    const out = join(work, 'azure.env');
    rmSync(out, { force: true });
    rmSync(kedaOut, { force: true }); // [keda]
    writeFileSync(
      join(work, 'outputs.json'),
      JSON.stringify(
        Object.fromEntries(
          Object.entries(outputs).map(([k, value]) => [k, { type: 'String', value }]),
        ),
      ),
    );
    rmSync(bin, { recursive: true, force: true });
    mkdirSync(bin, { recursive: true });
    writeFileSync(
      join(bin, 'az'),
      `#!/bin/sh\necho "$@" > "${work}/az-args"\ncat "${work}/outputs.json"\n`,
    );
    chmodSync(join(bin, 'az'), 0o755);
    const result = spawnSync('bash', [join(repoRoot, 'scripts', 'write-aks-env.sh'), 'rg-intake'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH}`,
        AZURE_ENV_FILE: out,
        IMAGE_TAG: 'abc1234',
        ...deployTime,
        ENABLE_KEDA_AUTOSCALING: 'false', // [keda]
        ...features,
      },
    });
    const args = () => readFileSync(join(work, 'az-args'), 'utf8').trim();
    return { ...result, out, args };
  }

  it('writes every output the overlay needs, under its Bicep name, and the image tag', () => {
    const outputs = exampleOutputs();
    // ARM may return an output name in another case than Bicep declared it.
    const result = run({ ...outputs, KeyVaultUrl: outputs.keyVaultUrl!, unrelated: 'x' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.args()).toBe(
      'deployment group show --resource-group rg-intake --name main --query properties.outputs --output json',
    );
    expect(readEnvFile(result.out)).toEqual({ ...example, imageTag: 'abc1234' });
  });

  it('refuses a deployment that lacks an output, naming it', () => {
    const { backendClientId: _, cosmosEndpoint: __, ...outputs } = exampleOutputs();
    const result = run(outputs);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('lacks the output(s): backendClientId, cosmosEndpoint');
    expect(() => readFileSync(result.out)).toThrow();
  });

  it('refuses to write without the deploy-time values, naming them', () => {
    const { BACKEND_API_AUDIENCE: _, ...deployTime } = exampleDeployTime();
    const result = run(exampleOutputs(), {}, deployTime);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('lacks the output(s): backendApiAudience, backendApiScope');
  });

  // [keda] begin
  it('writes keda.env too with ENABLE_KEDA_AUTOSCALING=true, from the same outputs', () => {
    const outputs = exampleOutputs();
    const without = run({ ...outputs, ...kedaExample });
    expect(without.status, without.stderr).toBe(0);
    expect(existsSync(kedaOut)).toBe(false);
    const result = run({ ...outputs, ...kedaExample }, withKeda);
    expect(result.status, result.stderr).toBe(0);
    expect(readEnvFile(result.out)).toEqual({ ...example, imageTag: 'abc1234' });
    expect(readEnvFile(kedaOut)).toEqual(kedaExample);
  });

  it('refuses keda.env from a deployment provisioned without KEDA (empty kedaClientId)', () => {
    const outputs = exampleOutputs();
    const result = run({ ...outputs, kedaClientId: '' }, withKeda);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('lacks the output(s): kedaClientId');
    expect(result.stderr).toContain('provision with ENABLE_KEDA_AUTOSCALING=true first');
    expect(existsSync(kedaOut)).toBe(false);
  });
  // [keda] end
});
