import { SecretClient } from '@azure/keyvault-secrets';
import { ServiceBusClient } from '@azure/service-bus';
import { BlobServiceClient } from '@azure/storage-blob';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { AZURE_CLIENTS, type AzureClients, AzureModule } from './azure.module.js';
import { ConfigError } from './config/azure-config.js';
import { POD_AZURE_ENV } from './testing/pod-env.js';
import { AZURE_CONFIG, AZURE_CREDENTIAL } from './tokens.js';

/** A pod's variables; nothing here is contacted (clients connect on first use). */
const env = POD_AZURE_ENV;

/** Two consumers of the same client, as a service's repository and health check would be. */
@Injectable()
class UploadsReader {
  constructor(readonly blobs: BlobServiceClient) {}
}
@Injectable()
class UploadsProbe {
  constructor(readonly blobs: BlobServiceClient) {}
}

async function compile(resources: Parameters<typeof AzureModule.forRoot>[0]['resources']) {
  return Test.createTestingModule({
    imports: [AzureModule.forRoot({ resources, env })],
    providers: [UploadsReader, UploadsProbe],
  }).compile();
}

describe('AzureModule.forRoot', () => {
  it('provides one client per resource asked for, shared by every consumer, on one credential', async () => {
    const moduleRef = await compile(['blob', 'keyVault']);
    const blobs = moduleRef.get(BlobServiceClient);
    expect(blobs).toBeInstanceOf(BlobServiceClient);
    expect(moduleRef.get(UploadsReader).blobs).toBe(blobs);
    expect(moduleRef.get(UploadsProbe).blobs).toBe(blobs);
    expect(moduleRef.get(BlobServiceClient)).toBe(blobs);
    expect(moduleRef.get(SecretClient)).toBeInstanceOf(SecretClient);
    const clients = moduleRef.get<AzureClients>(AZURE_CLIENTS);
    expect(Object.keys(clients).sort()).toEqual(['blob', 'keyVault']);
    expect(clients.blob).toBe(blobs);
    expect(blobs.credential).toBe(moduleRef.get(AZURE_CREDENTIAL));
    expect(moduleRef.get(AZURE_CONFIG)).toMatchObject({
      blobEndpoint: env.AZURE_STORAGE_BLOB_ENDPOINT,
    });
    await moduleRef.close();
  });

  it('provides no client for a resource the service did not ask for', async () => {
    const moduleRef = await compile(['blob']);
    expect(() => moduleRef.get(ServiceBusClient)).toThrow();
    expect(() => moduleRef.get(SecretClient)).toThrow();
    await moduleRef.close();
  });

  it("refuses to start without a requested resource's endpoint, naming the variable", async () => {
    const { AZURE_STORAGE_BLOB_ENDPOINT: _missing, ...withoutBlob } = env;
    const compiling = Test.createTestingModule({
      imports: [AzureModule.forRoot({ resources: ['blob'], env: withoutBlob })],
    }).compile();
    await expect(compiling).rejects.toThrow(ConfigError);
    await expect(compiling).rejects.toThrow(
      'Missing environment variable AZURE_STORAGE_BLOB_ENDPOINT',
    );
  });
});
