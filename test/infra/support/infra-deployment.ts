import { loadIdentities, type IdentitiesFile } from '@wi/local-azure';
import { join } from 'node:path';
import type { ArmObject, DeploymentTarget } from './arm-expression.js';
import { dryRun, type DeploymentResult, type DryRunOptions } from './arm-deployment.js';
import { compileInfra, infraDir, type CompiledInfra } from './bicep-cli.js';

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
  deployerPrincipalId: 'deployer-object-id',
  writeSecrets: true,
};

export interface InfraUnderTest {
  compiled: CompiledInfra;
  identities: IdentitiesFile;
  /** The template dry-run with every optional resource on. */
  deployment: DeploymentResult;
}

export async function infraUnderTest(
  parameters: ArmObject = everythingOn,
  runtimeProperties?: DryRunOptions['runtimeProperties'],
): Promise<InfraUnderTest> {
  const compiled = await compileInfra();
  const identities = await loadIdentities(join(infraDir, 'identities.json'));
  const deployment = dryRun(compiled.main, parameters, {
    target: testTarget(),
    ...(runtimeProperties ? { runtimeProperties } : {}),
  });
  return { compiled, identities, deployment };
}
