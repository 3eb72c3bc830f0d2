import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AzureClientsModule } from './clients/azure-clients.module.js';
import { type AzureResource, loadAzureConfig } from './config/azure-config.js';
import { createCredential } from './credential/create-credential.js';
import type { CredentialDecorator } from './credential/credential-decorator.js';
import { AzureHealthIndicators } from './health/azure-health.indicators.js';
import { TelemetryBridge } from './telemetry/telemetry-bridge.js';
import { AZURE_CONFIG, AZURE_CREDENTIAL, AZURE_CREDENTIAL_DECORATOR } from './tokens.js';

export type { AzureClients } from './clients/azure-clients.module.js';
export { AZURE_CLIENTS } from './clients/azure-clients.token.js';

export interface AzureModuleOptions {
  /** Only these clients are created, and only their endpoint variables are required. */
  resources: readonly AzureResource[];
  /** Defaults to process.env; the credential itself always reads process.env, as on AKS. */
  env?: NodeJS.ProcessEnv;
}

/**
 * One credential and one client per resource for the whole process, created at start-up and
 * shared by injection: never a client per request or per message (each would mean a new token
 * exchange and, for Service Bus, a new AMQP connection).
 */
@Module({})
export class AzureModule {
  static forRoot(options: AzureModuleOptions): DynamicModule {
    return {
      module: AzureModule,
      global: true,
      // The clients, each SDK imported only if its resource is asked for.
      imports: [TerminusModule, AzureClientsModule.forResources(options.resources)],
      providers: [
        // Validated when the app is created (not when the module file loads), so that
        // runService can report a ConfigError in one line.
        {
          provide: AZURE_CONFIG,
          useFactory: () => loadAzureConfig(options.env ?? process.env, options.resources),
        },
        {
          provide: AZURE_CREDENTIAL,
          useFactory: (decorator?: CredentialDecorator) => createCredential(decorator),
          inject: [{ token: AZURE_CREDENTIAL_DECORATOR, optional: true }],
        },
        AzureHealthIndicators,
        TelemetryBridge,
      ],
      exports: [AZURE_CONFIG, AZURE_CREDENTIAL, AzureHealthIndicators, TerminusModule],
    };
  }
}
