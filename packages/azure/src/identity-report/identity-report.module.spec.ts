import { fileURLToPath } from 'node:url';
import type { TokenCredential } from '@azure/core-auth';
import { SecretClient } from '@azure/keyvault-secrets';
import { type DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AzureModule } from '../azure.module.js';
import { AZURE_CREDENTIAL } from '../tokens.js';
import { DeclaredDenials } from './declared-denials.js';
import { IdentityReportModule } from './identity-report.module.js';
import { IdentityReporter } from './identity-reporter.js';
import { TokenRecorder } from './token-recorder.js';

const declarationFile = fileURLToPath(
  new URL('../../../../infra/identities.json', import.meta.url),
);
// AzureModule's configuration only: the credential reads process.env, which has none of these.
const env = {
  AZURE_CLIENT_ID: '00000000-0000-0000-0000-0000000000c1',
  AZURE_TENANT_ID: '00000000-0000-0000-0000-0000000000a1',
  AZURE_FEDERATED_TOKEN_FILE: '/nonexistent/azure-identity-token',
  AZURE_AUTHORITY_HOST: 'https://login.localhost:4443/',
  AZURE_KEYVAULT_URL: 'https://kv-intake.vault.localhost:4443',
};

/** An application context of these modules, as a service's AppModule would import them. */
function start(...imports: DynamicModule[]) {
  @Module({ imports })
  class AppModule {}
  return NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
}

describe('IdentityReportModule', () => {
  beforeEach(() => {
    // The one credential the chain may use; with no token file it fails at once, offline.
    // Undone after each test (vitest.config.mts: unstubEnvs).
    vi.stubEnv('AZURE_TOKEN_CREDENTIALS', 'WorkloadIdentityCredential');
  });

  it('puts its token recorder inside the token cache of AzureModule, with one import', async () => {
    const app = await start(
      AzureModule.forRoot({ resources: ['keyVault'], env }),
      IdentityReportModule.forRoot({ service: 'backend', declarationFile }),
    );
    const credential = app.get<TokenCredential>(AZURE_CREDENTIAL);
    await expect(credential.getToken('https://vault.azure.net/.default')).rejects.toThrow();
    expect(app.get(TokenRecorder).records()).toMatchObject([
      { scope: 'https://vault.azure.net/.default', exchanges: 1, lastError: expect.any(Object) },
    ]);
    expect(app.get(IdentityReporter)).toBeInstanceOf(IdentityReporter);
    await app.close();
  });

  it("reads the service's denied names from the declaration", async () => {
    const app = await start(
      AzureModule.forRoot({ resources: ['keyVault'], env }),
      IdentityReportModule.forRoot({ service: 'backend', declarationFile }),
    );
    expect(app.get(SecretClient)).toBeInstanceOf(SecretClient);
    expect(
      app
        .get(DeclaredDenials)
        .probes()
        .map((probe) => probe.action),
    ).toEqual(['read secret frontend-session-key']);
    await app.close();
  });

  it('without it, the token cache wraps the SDK credential alone and records nothing', async () => {
    const app = await start(AzureModule.forRoot({ resources: ['keyVault'], env }));
    await expect(
      app.get<TokenCredential>(AZURE_CREDENTIAL).getToken('https://vault.azure.net/.default'),
    ).rejects.toThrow();
    expect(() => app.get(TokenRecorder)).toThrow();
    await app.close();
  });

  it('fails to start on a service the declaration does not have', async () => {
    await expect(
      start(
        AzureModule.forRoot({ resources: ['keyVault'], env }),
        IdentityReportModule.forRoot({ service: 'worker', declarationFile }),
      ),
    ).rejects.toThrow("service 'worker' is not declared");
  });
});
