import type { ServiceIdentity } from '@wi/identities';
import { beforeAll, describe, expect, it } from 'vitest';
import { show } from './support/arm-expression.js';
import { created, runtimeReference, single } from './support/arm-deployment.js';
import { skipBicepTests } from './support/bicep-cli.js';
import {
  expectedScope,
  federatedCredentialProblems,
  identityResource,
  resourceTypes as types,
  roleAssignmentProblems,
} from './support/identity-checks.js';
import { everythingOn, infraUnderTest, type InfraUnderTest } from './support/infra-deployment.js';

describe.skipIf(skipBicepTests)('KEDA (enableKedaAutoscaling): add-on, identity, one role', () => {
  let on: InfraUnderTest;
  let off: InfraUnderTest;
  let keda: ServiceIdentity;
  beforeAll(async () => {
    on = await infraUnderTest({ ...everythingOn, enableKedaAutoscaling: true });
    const { enableKedaAutoscaling: _, ...defaults } = everythingOn;
    off = await infraUnderTest(defaults);
    // KEDA's identity is an entry of identities.json like the services', marked as the feature's.
    keda = on.file.identities.find((identity) => identity.feature === 'keda')!;
  }, 240_000); // two compilations and dry runs, beside other bicep processes on two cores

  it('is an entry of identities.json, created only with the feature', () => {
    expect(keda).toMatchObject({ service: 'keda', managedIdentityName: 'id-keda' });
    expect(on.identities.identities).toContain(keda);
    expect(off.identities.identities).not.toContain(keda);
    // Without it, everything else is the same: the services' identities, credentials and roles.
    expect(off.identities.identities).toEqual(on.identities.identities.filter((i) => i !== keda));
    expect(federatedCredentialProblems(off.deployment, off.identities)).toEqual([]);
    expect(roleAssignmentProblems(off.deployment, off.identities)).toEqual([]);
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
    expect(federatedCredentialProblems(on.deployment, on.identities)).toEqual([]);
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
    expect(roleAssignmentProblems(on.deployment, on.identities)).toEqual([]);
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
