import type { LocalCloud } from '@wi/local-azure';
import { afterEach, describe, expect, it } from 'vitest';
import { editedIdentities, freePort, startLocalCloud } from '../support/local-stack.js';
import { serviceCredential } from '../support/seed.js';

/**
 * Four more misconfigurations users hit today, each reproduced through the services' own code
 * path (WorkloadIdentityCredential reading the projected token file) and answered with the code
 * Entra gives. docs/troubleshooting.md has the fix for each.
 */

let cloud: LocalCloud | undefined;
afterEach(async () => {
  await cloud?.stop();
  cloud = undefined;
});

function credential(service: string) {
  return serviceCredential(cloud!, service);
}

const scope = 'https://vault.localhost/.default';

describe('assertion misconfigurations fail locally with the code Azure gives', () => {
  it('a subject that differs only in letter case: AADSTS7002138 (matching is case-sensitive)', async () => {
    cloud = await startLocalCloud({
      identitiesFile: await editedIdentities((file) => {
        file.identities.find((i) => i.service === 'backend')!.federatedCredential.subject =
          'system:serviceaccount:doc-intake:Backend';
      }),
    });
    await expect(credential('backend').getToken(scope)).rejects.toThrow(/AADSTS7002138/);
    // The control: the frontend's credential, whose subject is exact, still works.
    await expect(credential('frontend').getToken(scope)).resolves.toBeTruthy();
  });

  it('an assertion signed by a key missing from the issuer JWKS (after a key rotation): AADSTS7000272', async () => {
    cloud = await startLocalCloud();
    await cloud.sts.writeServiceAccountToken('backend', { signWithUnlistedKey: true });
    await expect(credential('backend').getToken(scope)).rejects.toThrow(/AADSTS7000272/);
    await cloud.sts.writeServiceAccountToken('backend');
    await expect(credential('backend').getToken(scope)).resolves.toBeTruthy();
  });

  it('issuer discovery unreachable (issuer disabled, private, or a wrong URL that matches): AADSTS50166', async () => {
    const unreachable = `https://localhost:${await freePort()}/oidc/`;
    cloud = await startLocalCloud({
      identitiesFile: await editedIdentities((file) => {
        file.identities.find((i) => i.service === 'backend')!.federatedCredential.issuer =
          unreachable;
      }),
    });
    await cloud.sts.writeServiceAccountToken('backend', { iss: unreachable });
    await expect(credential('backend').getToken(scope)).rejects.toThrow(/AADSTS50166/);
  });

  it('an assertion that is not yet valid (nbf ahead: a node clock behind the issuer): AADSTS700024', async () => {
    cloud = await startLocalCloud();
    await cloud.sts.writeServiceAccountToken('backend', { notBeforeSeconds: 600 });
    await expect(credential('backend').getToken(scope)).rejects.toThrow(/AADSTS700024/);
    // Within Entra's five minutes of skew it is accepted.
    await cloud.sts.writeServiceAccountToken('backend', { notBeforeSeconds: 120 });
    await expect(credential('backend').getToken(scope)).resolves.toBeTruthy();
  });
});
