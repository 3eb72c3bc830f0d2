import { Inject, Injectable, Logger } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { AzureClients } from '../clients/azure-clients.module.js';
import { AZURE_CLIENTS } from '../clients/azure-clients.token.js';
import { describeAzureError } from '../errors/describe-azure-error.js';
import { probes } from './permission-probes.js';

const PROBE_TIMEOUT_MS = 5_000;
// Readiness is polled every few seconds by the kubelet; a short cache keeps probes from
// becoming the main load on Key Vault and Cosmos.
const PROBE_CACHE_MS = 2_000;

/**
 * Readiness probes that use the service's own identity and exactly the permissions it has, so a
 * missing role assignment shows up as "not ready" with Azure's own error code.
 */
@Injectable()
export class AzureHealthIndicators {
  private readonly logger = new Logger('Readiness');

  constructor(
    private readonly health: HealthIndicatorService,
    // The record, not the SDK classes: importing those would load every SDK into every service.
    @Inject(AZURE_CLIENTS) private readonly clients: AzureClients,
  ) {}

  /**
   * Reads the secret (Key Vault Secrets User allows getSecret). The answer names the secret but
   * never its version: readiness is reachable without a token, and a version is what a forged
   * cookie or record would need to name.
   */
  keyVaultSecret(key: string, secretName: string) {
    return this.probe(key, async () => {
      await this.require(this.clients.keyVault).getSecret(secretName);
      return { secret: secretName };
    });
  }

  blobContainer(key: string, container: string) {
    return this.probe(key, async () => {
      await this.require(this.clients.blob).getContainerClient(container).getProperties();
      return { container };
    });
  }

  /** The identity report's send probe: CBS authorization for Send happens on attach. */
  serviceBusSender(key: string, queue: string) {
    return this.probe(key, async () => {
      await probes.send(this.require(this.clients.serviceBus), queue).run();
      return { queue, access: 'send' };
    });
  }

  /** The identity report's receive probe: a peek, which never locks (steals) a message. */
  serviceBusReceiver(key: string, queue: string) {
    return this.probe(key, async () => {
      await probes.receive(this.require(this.clients.serviceBus), queue).run();
      return { queue, access: 'listen' };
    });
  }

  cosmosContainer(key: string, database: string, container: string) {
    return this.probe(key, async () => {
      await probes.readContainer(this.require(this.clients.cosmos), database, container).run();
      return { database, container };
    });
  }

  private probe(key: string, check: () => Promise<Record<string, unknown>>) {
    return this.health
      .check(key)
      .attempt(async () => {
        try {
          return await check();
        } catch (error) {
          // Terminus reports the thrown message: only Azure's code and status (a data plane's
          // message can name principal ids). The whole description goes to the log.
          const description = describeAzureError(error);
          this.logger.warn({ check: key, err: description }, 'not ready');
          throw new Error(/^[^:]*/.exec(description)?.[0] || 'Error');
        }
      })
      .withTimeout(PROBE_TIMEOUT_MS)
      .cacheFor(PROBE_CACHE_MS);
  }

  private require<T>(client: T | undefined): T {
    if (!client) throw new Error('This service was not configured with that Azure resource.');
    return client;
  }
}
