import {
  type IdentitiesFile,
  type IdentityFeature,
  identitiesWith,
  loadIdentities,
  parseIdentities,
} from '@wi/identities';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArmObject, DeploymentTarget } from './arm-expression.js';
import { dryRun, type DeploymentResult, type DryRunOptions } from './arm-deployment.js';
import { bicep, compileInfra, infraDir, type CompiledInfra } from './bicep-cli.js';

/** Where the dry runs pretend to deploy. */
export function testTarget(): DeploymentTarget {
  let guids = 0;
  return {
    subscriptionId: '00000000-1111-2222-3333-444444444444',
    resourceGroup: 'rg-doc-intake',
    location: 'swedencentral',
    tenantId: '99999999-8888-7777-6666-555555555555',
    // Recognisable stand-ins: a secret value built from them was generated, not typed.
    newGuid: () => `newGuid#${++guids}`,
  };
}

/** Parameters that switch every optional resource on, so every resource is checked. */
export const everythingOn: ArmObject = {
  environmentName: 'test',
  enableContainerInsights: true,
  enableKedaAutoscaling: true, // [keda]
  deployerPrincipalId: 'deployer-object-id',
  writeSecrets: true,
  networkIsolation: true,
  enableAzurePolicy: true,
  enableDefender: true,
  enableEncryptionAtHost: true,
  githubRepository: 'contoso/doc-intake',
  apiServerAuthorizedIpRanges: ['203.0.113.7/32'],
};

/** What `azd up` deploys when nothing is set: every parameter at its default but the required one. */
export const defaults: ArmObject = { environmentName: 'test' };

/** The parameter of infra/main.bicep that turns each optional feature of identities.json on. */
const FEATURE_PARAMETERS: Record<IdentityFeature, string> = {
  keda: 'enableKedaAutoscaling', // [keda]
};

/** The identities of the file a deployment with these parameters creates. */
export function deployedIdentities(file: IdentitiesFile, parameters: ArmObject): IdentitiesFile {
  const on = (Object.keys(FEATURE_PARAMETERS) as IdentityFeature[]).filter(
    (feature) => parameters[FEATURE_PARAMETERS[feature]] === true,
  );
  return identitiesWith(file, on);
}

export interface InfraUnderTest {
  compiled: CompiledInfra;
  /** infra/identities.json as committed. */
  file: IdentitiesFile;
  /** The identities this deployment creates: the file's, less those of features left off. */
  identities: IdentitiesFile;
  /** The template dry-run with every optional resource on. */
  deployment: DeploymentResult;
}

export async function infraUnderTest(
  parameters: ArmObject = everythingOn,
  runtimeProperties?: DryRunOptions['runtimeProperties'],
): Promise<InfraUnderTest> {
  const compiled = await compileInfra();
  const file = await loadIdentities(join(infraDir, 'identities.json'));
  const deployment = dryRun(compiled.main, parameters, {
    target: testTarget(),
    ...(runtimeProperties ? { runtimeProperties } : {}),
  });
  return { compiled, file, identities: deployedIdentities(file, parameters), deployment };
}

/**
 * `bicep build` of a scratch copy of infra/ whose identities.json is `file` (validated by the
 * loader first), dry-run with `parameters`: what Bicep would create from another declaration.
 */
export async function infraWithDeclaration(
  file: IdentitiesFile,
  parameters: ArmObject = everythingOn,
): Promise<{ identities: IdentitiesFile; deployment: DeploymentResult }> {
  const checked = parseIdentities(file, 'identities.json (scratch copy)');
  const dir = mkdtempSync(join(tmpdir(), 'wi-infra-declaration-'));
  try {
    cpSync(infraDir, dir, { recursive: true });
    writeFileSync(join(dir, 'identities.json'), JSON.stringify(checked, null, 2));
    const out = join(dir, 'out');
    const run = await bicep(['build', 'main.bicep', '--outdir', out], dir);
    const problems = [
      ...run.diagnostics.map((d) => `${d.file}:${d.line} ${d.level} ${d.code}: ${d.message}`),
      ...run.otherOutput,
    ];
    if (run.status !== 0 || problems.length > 0) {
      throw new Error(`bicep build of the scratch copy failed:\n${problems.join('\n')}`);
    }
    const template = JSON.parse(readFileSync(join(out, 'main.json'), 'utf8')) as ArmObject;
    return {
      identities: deployedIdentities(checked, parameters),
      deployment: dryRun(template, parameters, { target: testTarget() }),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
