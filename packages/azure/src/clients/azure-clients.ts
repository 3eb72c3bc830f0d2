import type { TokenCredential } from '@azure/core-auth';
import type { CosmosClient } from '@azure/cosmos';
import type { SecretClient } from '@azure/keyvault-secrets';
import type { ServiceBusClient } from '@azure/service-bus';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { AzureConfig, AzureResource } from '../config/azure-config.js';

// Every client identifies this sample in the User-Agent header, which Azure logs per request.
const userAgentOptions = { userAgentPrefix: 'workload-identity-nestjs-sample' };

/** The client class of each resource: what a service injects. */
export interface AzureClientTypes {
  keyVault: SecretClient;
  blob: BlobServiceClient;
  serviceBus: ServiceBusClient;
  cosmos: CosmosClient;
}

export interface AzureClientFactory<R extends AzureResource> {
  /** The SDK's client class: the DI token services inject the client by. */
  token: abstract new (...args: never[]) => AzureClientTypes[R];
  create(config: AzureConfig, credential: TokenCredential): AzureClientTypes[R];
}

/**
 * Each resource's SDK, imported only when a service asks for that resource: an SDK module costs
 * start-up time and memory whether or not a client is ever made (the frontend, with no Cosmos
 * role, used to load @azure/cosmos: bench/results/cold-start.md). The same ES module a service
 * imports, so the class is the same DI token.
 */
export const clientFactories: {
  [R in AzureResource]: () => Promise<AzureClientFactory<R>>;
} = {
  async keyVault() {
    const { SecretClient } = await import('@azure/keyvault-secrets');
    return {
      token: SecretClient,
      create: (config, credential) =>
        new SecretClient(required(config.keyVaultUrl), credential, { userAgentOptions }),
    };
  },
  async blob() {
    const { BlobServiceClient } = await import('@azure/storage-blob');
    return {
      token: BlobServiceClient,
      create: (config, credential) =>
        new BlobServiceClient(required(config.blobEndpoint), credential, { userAgentOptions }),
    };
  },
  async serviceBus() {
    const { RetryMode, ServiceBusClient } = await import('@azure/service-bus');
    return {
      token: ServiceBusClient,
      create: (config, credential) =>
        new ServiceBusClient(required(config.serviceBusNamespace), credential, {
          userAgentOptions,
          // The SDK also retries a refused link (a missing role), so the defaults keep an upload
          // or a probe waiting for long. About 2 s of backoff in all: an interactive upload fails
          // fast, and the worker's subscribe() loop reconnects on its own, without this limit.
          retryOptions: {
            maxRetries: 3,
            retryDelayInMs: 300,
            maxRetryDelayInMs: 3_000,
            mode: RetryMode.Exponential,
          },
        }),
    };
  },
  async cosmos() {
    const { CosmosClient } = await import('@azure/cosmos');
    return {
      token: CosmosClient,
      create: (config, credential) =>
        new CosmosClient({
          endpoint: required(config.cosmosEndpoint),
          aadCredentials: credential,
          userAgentSuffix: userAgentOptions.userAgentPrefix,
        }),
    };
  },
};

function required(value: string | undefined): string {
  // loadAzureConfig has already validated every resource the module was asked for.
  if (!value) throw new Error('The Azure module was not configured for this resource.');
  return value;
}
