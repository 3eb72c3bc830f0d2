import { CosmosClient } from '@azure/cosmos';
import { SecretClient } from '@azure/keyvault-secrets';
import { ServiceBusClient } from '@azure/service-bus';
import { BlobServiceClient } from '@azure/storage-blob';
import { Controller, Get, Header, Inject } from '@nestjs/common';
import { IdentityReporter, probes } from '@wi/azure';
import type { IdentityReport } from '@wi/contracts';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend-config.js';

/** The frontend's secret; the backend must not be able to read it. */
const OTHER_SERVICE_SECRET = 'frontend-session-key';

/**
 * GET /identity, for the frontend's Identity page (the backend is internal to the cluster). Each
 * permission of the backend's roles, and two it must not have: the frontend's secret and
 * sending to the queue it consumes.
 */
@Controller('identity')
export class IdentityController {
  constructor(
    private readonly reporter: IdentityReporter,
    private readonly secrets: SecretClient,
    private readonly blobs: BlobServiceClient,
    private readonly serviceBus: ServiceBusClient,
    private readonly cosmos: CosmosClient,
    @Inject(BACKEND_CONFIG) private readonly config: BackendConfig,
  ) {}

  @Get()
  @Header('cache-control', 'no-store')
  report(): Promise<IdentityReport> {
    const c = this.config;
    return this.reporter.report('backend', [
      probes.readSecret(this.secrets, c.signingSecretName),
      probes.listBlobs(this.blobs, c.uploadsContainer),
      probes.receive(this.serviceBus, c.documentsQueue),
      probes.readContainer(this.cosmos, c.cosmosDatabase, c.cosmosContainer),
      probes.readSecret(this.secrets, OTHER_SERVICE_SECRET, 'denied'),
      probes.send(this.serviceBus, c.documentsQueue, 'denied'),
    ]);
  }
}
