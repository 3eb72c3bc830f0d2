import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { localClientId, localPrincipalId, parseIdentities } from '../identities/index.js';
import type { AccessTokenClaims } from '../tokens/access-token.js';
import { RoleAssignments } from './role-assignments.js';

const identities = parseIdentities(
  JSON.parse(await readFile(new URL('../../../../infra/identities.json', import.meta.url), 'utf8')),
);
const rbac = new RoleAssignments(identities);
const claimsOf = (service: string): AccessTokenClaims => {
  const identity = identities.identities.find((i) => i.service === service)!;
  const oid = localPrincipalId(identity);
  return {
    iss: 'i',
    aud: 'a',
    exp: 0,
    nbf: 0,
    iat: 0,
    tid: 't',
    oid,
    sub: oid,
    appid: localClientId(identity),
  };
};
const BLOB = 'Microsoft.Storage/storageAccounts/blobServices/containers';
const COSMOS = 'Microsoft.DocumentDB/databaseAccounts';

describe('RoleAssignments from infra/identities.json', () => {
  it.each([
    ['frontend', 'storage', `${BLOB}/blobs/write`, { container: 'uploads' }, true],
    ['backend', 'storage', `${BLOB}/blobs/read`, { container: 'uploads' }, true],
    ['backend', 'storage', `${BLOB}/blobs/write`, { container: 'uploads' }, false],
    ['frontend', 'storage', `${BLOB}/blobs/write`, { container: 'other' }, false],
    [
      'frontend',
      'serviceBus',
      'Microsoft.ServiceBus/namespaces/queues/send/action',
      { queue: 'documents' },
      true,
    ],
    [
      'frontend',
      'serviceBus',
      'Microsoft.ServiceBus/namespaces/queues/receive/action',
      { queue: 'documents' },
      false,
    ],
    [
      'backend',
      'serviceBus',
      'Microsoft.ServiceBus/namespaces/queues/receive/action',
      { queue: 'documents/$deadletterqueue' },
      true,
    ],
    [
      'backend',
      'serviceBus',
      'Microsoft.ServiceBus/namespaces/queues/send/action',
      { queue: 'documents' },
      false,
    ],
    [
      'frontend',
      'keyVault',
      'Microsoft.KeyVault/vaults/secrets/getSecret/action',
      { secret: 'frontend-session-key' },
      true,
    ],
    [
      'frontend',
      'keyVault',
      'Microsoft.KeyVault/vaults/secrets/getSecret/action',
      { secret: 'backend-signing-key' },
      false,
    ],
    [
      'backend',
      'cosmos',
      `${COSMOS}/sqlDatabases/containers/items/upsert`,
      { database: 'intake', container: 'documents' },
      true,
    ],
    ['backend', 'cosmos', `${COSMOS}/readMetadata`, {}, true],
    ['frontend', 'cosmos', `${COSMOS}/readMetadata`, {}, false],
    // Monitoring Metrics Publisher on the Application Insights component: telemetry only.
    ['backend', 'applicationInsights', 'Microsoft.Insights/Telemetry/Write', {}, true],
    ['frontend', 'applicationInsights', 'Microsoft.Insights/Metrics/Write', {}, true],
    ['frontend', 'applicationInsights', 'Microsoft.Insights/components/write', {}, false],
    // [keda] begin
    // KEDA's identity reads queue lengths (Data Owner on the queue) and has nothing else.
    [
      'keda',
      'serviceBus',
      'Microsoft.ServiceBus/namespaces/queues/read',
      { queue: 'documents' },
      true,
    ],
    [
      'keda',
      'keyVault',
      'Microsoft.KeyVault/vaults/secrets/getSecret/action',
      { secret: 'backend-signing-key' },
      false,
    ],
    // [keda] end
  ] as const)('%s %s %s %j → %s', (service, resource, action, scope, allowed) => {
    expect(rbac.check(claimsOf(service), resource, action, scope).allowed).toBe(allowed);
  });

  it('names the identity, the action and the scope when it denies', () => {
    const decision = rbac.check(claimsOf('backend'), 'storage', `${BLOB}/blobs/write`, {
      container: 'uploads',
    });
    expect(decision).toEqual({
      allowed: false,
      message: expect.stringMatching(/'id-backend'.*blobs\/write.*containers\/uploads/),
    });
  });
});
