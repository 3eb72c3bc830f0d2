import type { TokenCredential } from '@azure/core-auth';
import {
  type DynamicModule,
  Inject,
  Module,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import type { AzureConfig, AzureResource } from '../config/azure-config.js';
import { AZURE_CONFIG, AZURE_CREDENTIAL } from '../tokens.js';
import { type AzureClientTypes, clientFactories } from './azure-clients.js';
import { AZURE_CLIENTS } from './azure-clients.token.js';

/** The clients of the resources the module was asked for; the others are absent. */
export type AzureClients = Partial<AzureClientTypes>;

/**
 * One client per resource the service asked for, created once and injected by its SDK class
 * (`constructor(blobs: BlobServiceClient)`), and all of them as AZURE_CLIENTS for the module's
 * own code (readiness, shutdown), which must not import an SDK the service does not use.
 * Asynchronous because each SDK is imported only when asked for (azure-clients.ts); Nest
 * accepts the promise in `imports`. Global, like AzureModule, which imports it.
 */
@Module({})
export class AzureClientsModule {
  static async forResources(resources: readonly AzureResource[]): Promise<DynamicModule> {
    const factories = await Promise.all(
      resources.map(async (resource) => [resource, await clientFactories[resource]()] as const),
    );
    const providers: Provider[] = [
      {
        provide: AZURE_CLIENTS,
        useFactory: (config: AzureConfig, credential: TokenCredential): AzureClients =>
          Object.fromEntries(
            factories.map(([resource, factory]) => [resource, factory.create(config, credential)]),
          ),
        inject: [AZURE_CONFIG, AZURE_CREDENTIAL],
      },
      ...factories.map(([resource, factory]) => ({
        provide: factory.token,
        useFactory: (clients: AzureClients) => clients[resource],
        inject: [AZURE_CLIENTS],
      })),
    ];
    return {
      module: AzureClientsModule,
      global: true,
      providers: [...providers, AzureClientsShutdown],
      exports: providers.map((provider) => (provider as { provide: unknown }).provide as never),
    };
  }
}

/** Closes the AMQP connection and Cosmos timers so the process can exit after draining. */
class AzureClientsShutdown implements OnApplicationShutdown {
  constructor(@Inject(AZURE_CLIENTS) private readonly clients: AzureClients) {}

  async onApplicationShutdown(): Promise<void> {
    await this.clients.serviceBus?.close();
    this.clients.cosmos?.dispose();
  }
}
