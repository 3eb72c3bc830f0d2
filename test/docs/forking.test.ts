// docs/forking.md, "Add a service": the declaration alone gives the local cloud a third identity.
// The reporter's entry, as the guide shows it after `pnpm new:service reporter` and its role edit,
// added to a copy of infra/identities.json (the working tree is never written to): the local cloud
// exchanges the reporter's token and enforces its roles. The rest of the guide (the generator,
// `pnpm dev`, `pnpm check:wiring`, Bicep) runs in a scratch copy in new-service.test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const { json: identitiesJson } = withReporter();
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
