import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type IdentitiesFile, type ServiceIdentity, parseIdentities } from '@wi/local-azure';
import { beforeAll, describe, expect, it } from 'vitest';
import { show } from './support/arm-expression.js';
import { created, runtimeReference, single } from './support/arm-deployment.js';
import { infraDir, skipBicepTests } from './support/bicep-cli.js';
import {
  expectedScope,
  federatedCredentialProblems,
  identityResource,
  resourceTypes as types,
  roleAssignmentProblems,
} from './support/identity-checks.js';
import { everythingOn, infraUnderTest, type InfraUnderTest } from './support/infra-deployment.js';

/** infra/keda-identity.json, validated with the schema of an identities.json entry. */
function kedaIdentity(namespace: string): ServiceIdentity {
  const entry = JSON.parse(readFileSync(join(infraDir, 'keda-identity.json'), 'utf8'));
  return parseIdentities({ namespace, identities: [entry] }, 'infra/keda-identity.json')
    .identities[0]!;
}

describe.skipIf(skipBicepTests)('KEDA (enableKedaAutoscaling): add-on, identity, one role', () => {
  let on: InfraUnderTest;
  let off: InfraUnderTest;
  let keda: ServiceIdentity;
  let withKeda: IdentitiesFile;
  beforeAll(async () => {
    on = await infraUnderTest({ ...everythingOn, enableKedaAutoscaling: true });
    off = await infraUnderTest();
    keda = kedaIdentity(on.identities.namespace);
    withKeda = { ...on.identities, identities: [...on.identities.identities, keda] };
  });

  it('is off by default: no add-on, no id-keda, an empty kedaClientId', () => {
    const cluster = single(off.deployment, types.cluster).properties;
    expect(cluster).toMatchObject({ workloadAutoScalerProfile: { keda: { enabled: false } } });
    expect(off.deployment.outputs.kedaClientId).toBe('');
    expect(
      created(off.deployment, 'Microsoft.ManagedIdentity/userAssignedIdentities').map(
        (r) => r.name,
      ),
    ).not.toContain('id-keda');
  });

  it('installs the KEDA add-on on the cluster', () => {
    const cluster = single(on.deployment, types.cluster).properties;
    expect(cluster).toMatchObject({ workloadAutoScalerProfile: { keda: { enabled: true } } });
  });

  it("federates id-keda with KEDA's operator account only, written serially like the others", () => {
    expect(keda.federatedCredential.subject).toBe(
      'system:serviceaccount:kube-system:keda-operator',
    );
    expect(federatedCredentialProblems(on.deployment, withKeda)).toEqual([]);
  });

  it('gives id-keda exactly one role: Azure Service Bus Data Owner on the documents queue', () => {
    expect(keda.roleAssignments).toEqual([
      {
        role: 'Azure Service Bus Data Owner',
        roleDefinitionId: '090c5cfd-751d-490a-894a-3ce6f1109419',
        scope: { resource: 'serviceBus', queue: 'documents' },
      },
    ]);
    // Every identity (the services' and KEDA's) has exactly its roles, each at its scope.
    expect(roleAssignmentProblems(on.deployment, withKeda)).toEqual([]);
    expect(expectedScope(on.deployment, keda.roleAssignments[0]!.scope)).toMatch(
      /\/Microsoft\.ServiceBus\/namespaces\/sb-[a-z0-9]+\/queues\/documents$/,
    );
    const principal = show(
      runtimeReference(identityResource(on.deployment, keda).id, 'principalId'),
    );
    const kedaGrants = created(on.deployment, types.roleAssignment).filter(
      (r) => show(r.properties.principalId ?? null) === principal,
    );
    expect(kedaGrants).toHaveLength(1);
  });

  it("outputs id-keda's client id for k8s/overlays/aks-keda/keda.env", () => {
    expect(show(on.deployment.outputs.kedaClientId!)).toBe(
      show(runtimeReference(identityResource(on.deployment, keda).id, 'clientId')),
    );
  });
});
