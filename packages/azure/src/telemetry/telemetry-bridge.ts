import type { TokenCredential } from '@azure/core-auth';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { shutdownTelemetry, useTelemetryCredential } from '@wi/telemetry';
import { AZURE_CREDENTIAL } from '../tokens.js';

/**
 * Joins telemetry, started before the application, to it: the Azure Monitor exporters
 * authenticate with the process's one credential, and what is buffered is flushed when the
 * application shuts down (after the worker has drained, so its last spans are included).
 */
@Injectable()
export class TelemetryBridge implements OnApplicationShutdown {
  constructor(@Inject(AZURE_CREDENTIAL) credential: TokenCredential) {
    useTelemetryCredential(credential);
  }

  async onApplicationShutdown(): Promise<void> {
    await shutdownTelemetry();
  }
}
