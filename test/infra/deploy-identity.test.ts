import { GITHUB_ACTIONS_ISSUER, deploySubject } from '@wi/identities';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ArmObject, show } from './support/arm-expression.js';
import { created, runtimeReference } from './support/arm-deployment.js';
import { skipBicepTests } from './support/bicep-cli.js';
import { resourceTypes as types } from './support/identity-checks.js';
import {
  defaults,
  everythingOn,
  infraUnderTest,
  type InfraUnderTest,
} from './support/infra-deployment.js';

// id-deploy: the identity .github/workflows/deploy.yml signs in as (azure/login, OIDC). Declared in
// infra/identities.json (deployIdentities) like the workloads; created only when the deployment
// names its repository.

const OWNER = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
const USER_ACCESS_ADMINISTRATOR = '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9';
const RBAC_ADMINISTRATOR = 'f58310d9-a9f6-439a-9e8d-f62e7b41a168';
const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';

describe.skipIf(skipBicepTests)('the GitHub deploy identity (deployIdentities)', () => {
  let on: InfraUnderTest;
  let off: InfraUnderTest;
  beforeAll(async () => {
    on = await infraUnderTest(everythingOn);
    off = await infraUnderTest(defaults);
  });

  const identity = (infra: InfraUnderTest) =>
    created(infra.deployment, types.identity).find((r) => r.name === 'id-deploy');
  const grants = (infra: InfraUnderTest) => {
    const principal = show(runtimeReference(identity(infra)!.id, 'principalId'));
    return created(infra.deployment, types.roleAssignment).filter(
      (r) => show(r.properties.principalId ?? null) === principal,
    );
  };

  it('is not created unless the repository is named (a fork never trusts the upstream)', () => {
    expect(identity(off)).toBeUndefined();
    expect(off.deployment.outputs.deployClientId).toBe('');
    expect(identity(on)).toBeDefined();
  });

  it("trusts GitHub Actions' token for the production environment of that repository only", () => {
    const declared = on.file.deployIdentities![0]!;
    const credentials = created(on.deployment, types.federatedCredential).filter((c) =>
      c.id.startsWith(`${identity(on)!.id}/`),
    );
    expect(credentials).toHaveLength(1);
    expect(credentials[0]!.properties).toEqual({
      issuer: GITHUB_ACTIONS_ISSUER,
      subject: 'repo:contoso/doc-intake:environment:production',
      audiences: ['api://AzureADTokenExchange'],
    });
    expect(deploySubject(declared, 'contoso/doc-intake')).toBe(credentials[0]!.properties.subject);
    // A pull request's token carries another subject: Entra answers AADSTS700213.
    expect(credentials[0]!.properties.subject).not.toBe('repo:contoso/doc-intake:pull_request');
  });

  it('holds exactly the declared roles, at the resource group, none of them Owner or UAA', () => {
    const mine = grants(on);
    expect(mine.map((r) => String(r.properties.roleDefinitionId).split('/').pop()).sort()).toEqual(
      on.file.deployIdentities![0]!.roleAssignments.map((a) => a.roleDefinitionId).sort(),
    );
    for (const grant of mine) {
      expect(grant.scope ?? null, 'no scope: the deployment resource group').toBeNull();
      expect(String(grant.properties.roleDefinitionId)).not.toMatch(
        new RegExp(`${OWNER}|${USER_ACCESS_ADMINISTRATOR}`),
      );
    }
  });

  it('may assign and remove only the roles the templates assign (constrained delegation)', () => {
    const rbacAdmin = grants(on).find((r) =>
      String(r.properties.roleDefinitionId).endsWith(RBAC_ADMINISTRATOR),
    )!.properties as ArmObject;
    expect(rbacAdmin.conditionVersion).toBe('2.0');
    const condition = String(rbacAdmin.condition);
    const lists = [...condition.matchAll(/GuidEquals \{([^}]*)\}/g)].map((m) =>
      m[1]!.split(',').map((id) => id.trim()),
    );
    expect(lists).toHaveLength(2); // write and delete
    expect(lists[0]).toEqual(lists[1]);
    const allowed = new Set(lists[0]);
    // Every role assignment the template writes for anyone but id-deploy itself is allowed, so the
    // pipeline can provision again; and nothing that would let it widen its own rights.
    const others = created(on.deployment, types.roleAssignment).filter(
      (r) => !grants(on).includes(r),
    );
    for (const grant of others) {
      expect(allowed, String(grant.properties.description)).toContain(
        String(grant.properties.roleDefinitionId).split('/').pop(),
      );
    }
    for (const forbidden of [OWNER, USER_ACCESS_ADMINISTRATOR, RBAC_ADMINISTRATOR, CONTRIBUTOR]) {
      expect(allowed).not.toContain(forbidden);
    }
    // The conditions on the other grants are the template's own: the frontend's blob condition.
    expect(
      grants(on)
        .filter((r) => r.properties.condition)
        .map((r) => r.properties.description),
    ).toEqual(['github-deploy: Role Based Access Control Administrator on the resource group']);
  });

  it('outputs its client id for the GitHub environment variable AZURE_CLIENT_ID', () => {
    expect(show(on.deployment.outputs.deployClientId!)).toBe(
      show(runtimeReference(identity(on)!.id, 'clientId')),
    );
  });
});
