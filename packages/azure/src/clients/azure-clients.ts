import type { TokenCredential } from '@azure/core-auth';
import { CosmosClient } from '@azure/cosmos';
import { SecretClient } from '@azure/keyvault-secrets';
import { RetryMode, ServiceBusClient } from '@azure/service-bus';
import { BlobServiceClient } from '@azure/storage-blob';
import type { AzureConfig } from '../config/azure-config.js';

// Every client identifies this sample in the User-Agent header, which Azure logs per request.
const userAgentOptions = { userAgentPrefix: 'workload-identity-nestjs-sample' };

export function createSecretClient(config: AzureConfig, credential: TokenCredential): SecretClient {
  return new SecretClient(required(config.keyVaultUrl), credential, { userAgentOptions });
}

export function createBlobServiceClient(
  config: AzureConfig,
  credential: TokenCredential,
): BlobServiceClient {
  return new BlobServiceClient(required(config.blobEndpoint), credential, { userAgentOptions });
}

export function createServiceBusClient(
  config: AzureConfig,
  credential: TokenCredential,
): ServiceBusClient {
  return new ServiceBusClient(required(config.serviceBusNamespace), credential, {
    userAgentOptions,
    // The SDK also retries a refused link (a missing role), so the defaults keep an upload or a
    // probe waiting for long. About 2 s of backoff in all: an interactive upload fails fast, and
    // the worker's subscribe() loop reconnects on its own, without this limit.
    retryOptions: {
      maxRetries: 3,
      retryDelayInMs: 300,
      maxRetryDelayInMs: 3_000,
      mode: RetryMode.Exponential,
    },
  });
}

export function createCosmosClient(config: AzureConfig, credential: TokenCredential): CosmosClient {
  return new CosmosClient({
    endpoint: required(config.cosmosEndpoint),
    aadCredentials: credential,
    userAgentSuffix: userAgentOptions.userAgentPrefix,
  });
}

function required(value: string | undefined): string {
  // loadAzureConfig has already validated every resource the module was asked for.
  if (!value) throw new Error('The Azure module was not configured for this resource.');
  return value;
}
