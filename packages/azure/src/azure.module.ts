import type { TokenCredential } from '@azure/core-auth';
import { CosmosClient } from '@azure/cosmos';
import { SecretClient } from '@azure/keyvault-secrets';
import { ServiceBusClient } from '@azure/service-bus';
import { BlobServiceClient } from '@azure/storage-blob';
import {
  type DynamicModule,
  Inject,
  Module,
  type OnApplicationShutdown,
  Optional,
  type Provider,
} from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import {
  createBlobServiceClient,
  createCosmosClient,
  createSecretClient,
  createServiceBusClient,
} from './clients/azure-clients.js';
import { type AzureConfig, type AzureResource, loadAzureConfig } from './config/azure-config.js';
import { createCredential } from './credential/create-credential.js';
import { AzureHealthIndicators } from './health/azure-health.indicators.js';
import { IdentityReporter } from './identity/identity-reporter.js';
import { TelemetryBridge } from './telemetry/telemetry-bridge.js';
import { AZURE_CONFIG, AZURE_CREDENTIAL } from './tokens.js';

export interface AzureModuleOptions {
  /** Only these clients are created, and only their endpoint variables are required. */
  resources: readonly AzureResource[];
  /** Defaults to process.env; the credential itself always reads process.env, as on AKS. */
  env?: NodeJS.ProcessEnv;
}

const clientFactories: Record<
  AzureResource,
  {
    token: abstract new (...args: never[]) => unknown;
    create: (c: AzureConfig, t: TokenCredential) => unknown;
  }
> = {
  keyVault: { token: SecretClient, create: createSecretClient },
  blob: { token: BlobServiceClient, create: createBlobServiceClient },
  serviceBus: { token: ServiceBusClient, create: createServiceBusClient },
  cosmos: { token: CosmosClient, create: createCosmosClient },
};

/**
 * One credential and one client per resource for the whole process, created at start-up and
 * shared by injection: never a client per request or per message (each would mean a new token
 * exchange and, for Service Bus, a new AMQP connection).
 */
@Module({})
export class AzureModule {
  static forRoot(options: AzureModuleOptions): DynamicModule {
    const clientProviders: Provider[] = options.resources.map((resource) => ({
      provide: clientFactories[resource].token,
      useFactory: (config: AzureConfig, credential: TokenCredential) =>
        clientFactories[resource].create(config, credential),
      inject: [AZURE_CONFIG, AZURE_CREDENTIAL],
    }));
    return {
      module: AzureModule,
      global: true,
      imports: [TerminusModule],
      providers: [
        // Validated when the app is created (not when the module file loads), so that
        // runService can report a ConfigError in one line.
        {
          provide: AZURE_CONFIG,
          useFactory: () => loadAzureConfig(options.env ?? process.env, options.resources),
        },
        { provide: AZURE_CREDENTIAL, useFactory: createCredential },
        ...clientProviders,
        AzureClientsShutdown,
        AzureHealthIndicators,
        IdentityReporter,
        TelemetryBridge,
      ],
      exports: [
        AZURE_CONFIG,
        AZURE_CREDENTIAL,
        ...clientProviders,
        AzureHealthIndicators,
        IdentityReporter,
        TerminusModule,
      ],
    };
  }
}

/** Closes the AMQP connection and Cosmos timers so the process can exit after draining. */
class AzureClientsShutdown implements OnApplicationShutdown {
  constructor(
    @Optional() @Inject(ServiceBusClient) private readonly serviceBus?: ServiceBusClient,
    @Optional() @Inject(CosmosClient) private readonly cosmos?: CosmosClient,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.serviceBus?.close();
    this.cosmos?.dispose();
  }
}
