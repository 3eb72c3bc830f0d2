import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { LOCAL_DEPLOY_REPOSITORY, type LocalCloud } from '@wi/local-azure';
import {
  deploySubject,
  GITHUB_ACTIONS_ISSUER,
  localClientId,
  TOKEN_EXCHANGE_AUDIENCE,
} from '@wi/identities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud } from '../support/local-stack.js';
import { serviceCredential } from '../support/seed.js';

/**
 * The deploy pipeline signs in with no secret: azure/login presents GitHub Actions' OIDC token to
 * Entra as the deploy identity (infra/identities.json `deployIdentities`), whose one federated
 * credential trusts `repo:<owner>/<name>:environment:production`. A job run for a pull request
 * presents `repo:<owner>/<name>:pull_request` and Entra answers AADSTS700213: it matches issuer,
 * subject and audience before it fetches the issuer's keys, so no GitHub issuer is needed to
 * reproduce it. docs/troubleshooting.md has the fix.
 */

let cloud: LocalCloud;
let ca: string;
const repository = 'contoso/doc-intake';

beforeAll(async () => {
  cloud = await startLocalCloud({ deployRepository: repository });
  ca = await readFile(cloud.caCertPath, 'utf8');
});
afterAll(() => cloud?.stop());

/** The declaration's deploy identity (id-deploy) and its local client id, as workloads get theirs. */
const deployIdentity = () =>
  cloud.identities.deployIdentities!.find((i) => i.name === 'github-deploy')!;
const deployClientId = () => localClientId(deployIdentity());

// Any RS256 key will do: the credential match comes before any signature check.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** A token shaped like GitHub Actions' OIDC token for azure/login (aud api://AzureADTokenExchange). */
function githubToken(sub: string, iss = GITHUB_ACTIONS_ISSUER): string {
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode({ alg: 'RS256', typ: 'JWT', kid: 'github-test-key' })}.${encode({
    iss,
    sub,
    aud: TOKEN_EXCHANGE_AUDIENCE,
    repository: sub.split(':')[1],
    jti: randomUUID(),
    iat: now,
    nbf: now,
    exp: now + 300,
  })}`;
  const signature = createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url');
  return `${input}.${signature}`;
}

interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
}

/** What azure/login's `az login --federated-token` posts: client_credentials with the token. */
function signIn(
  clientId: string,
  assertion: string,
): Promise<{ status: number; body: EntraErrorBody }> {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    scope: 'https://management.azure.com/.default',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  }).toString();
  const url = new URL(`${cloud.sts.authorityHost}/${cloud.sts.tenantId}/oauth2/v2.0/token`);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', ca, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as EntraErrorBody });
          } catch (error) {
            reject(error as Error);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('the deploy identity (GitHub Actions OIDC, no secret) fails locally as in Azure', () => {
  it('its credential trusts the production environment of the deployment repository', () => {
    expect(deploySubject(deployIdentity(), repository)).toBe(
      `repo:${repository}:environment:production`,
    );
    expect(cloud.sts.deploySubject('github-deploy')).toBe(
      deploySubject(deployIdentity(), repository),
    );
    expect(cloud.sts.deployClientId('github-deploy')).toBe(deployClientId());
    expect(LOCAL_DEPLOY_REPOSITORY).toBe('local/repository');
  });

  it('a pull request job (sub repo:<repo>:pull_request): AADSTS700213 naming the subject', async () => {
    const subject = `repo:${repository}:pull_request`;
    const answer = await signIn(deployClientId(), githubToken(subject));
    // What Entra sent azure/login and Terraform for exactly this subject (Azure/login#461):
    // HTTP 401, invalid_client, error_codes [700213].
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('invalid_client');
    expect(answer.body.error_codes).toContain(700213);
    expect(answer.body.error_description).toContain(
      `AADSTS700213: No matching federated identity record found for presented assertion subject '${subject}'.`,
    );
    expect(cloud.sts.exchanges().at(-1)).toMatchObject({
      assertionSubject: subject,
      error: 'AADSTS700213',
    });
  });

  it('the production environment subject gets past matching: AADSTS50166, GitHub being out of reach', async () => {
    const answer = await signIn(
      deployClientId(),
      githubToken(`repo:${repository}:environment:production`),
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_request');
    expect(answer.body.error_codes).toEqual([50166]);
    expect(answer.body.error_description).toContain(GITHUB_ACTIONS_ISSUER);
    // Another environment of the same repository does not match either.
    const staging = await signIn(
      deployClientId(),
      githubToken(`repo:${repository}:environment:staging`),
    );
    expect(staging.body.error_codes).toEqual([700213]);
  });

  it('gets no token file and no workload environment: it is no workload', async () => {
    await expect(access(cloud.sts.tokenFilePath('github-deploy'))).rejects.toThrow(/ENOENT/);
    await expect(access(cloud.sts.tokenFilePath('backend'))).resolves.toBeUndefined();
    expect(() => cloud.env('github-deploy')).toThrow(/No identity for service 'github-deploy'/);
  });

  it("leaves a workload identity's exchange as it was", async () => {
    const env = cloud.env('backend');
    const credential = serviceCredential(cloud, 'backend');
    await expect(credential.getToken('https://vault.localhost/.default')).resolves.toBeTruthy();
    // A GitHub token presented as the backend's identity still fails on the issuer.
    const answer = await signIn(
      env.AZURE_CLIENT_ID!,
      githubToken(`repo:${repository}:environment:production`),
    );
    expect(answer.body.error_codes).toEqual([700211]);
  });
});
