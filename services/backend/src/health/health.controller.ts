import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { AzureHealthIndicators } from '@wi/azure';
import { Public } from '../common/decorators/app-role.decorator.js';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend-config.js';

/**
 * Open to the kubelet, which has no token. Readiness names each dependency and its status, and
 * for a failure Azure's code only: no secret version, no principal id, no message text.
 */
@Controller('healthz')
@Public()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly azure: AzureHealthIndicators,
    @Inject(BACKEND_CONFIG) private readonly config: BackendConfig,
  ) {}

  /** The process answers: restart it only when it does not. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** Every resource the backend uses, through its own identity and its own roles. */
  @Get('ready')
  @HealthCheck()
  ready() {
    const c = this.config;
    return this.health.check([
      () => this.azure.keyVaultSecret('keyVault', c.signingSecretName),
      () => this.azure.blobContainer('blob', c.uploadsContainer),
      () => this.azure.serviceBusReceiver('serviceBus', c.documentsQueue),
      () => this.azure.cosmosContainer('cosmos', c.cosmosDatabase, c.cosmosContainer),
    ]);
  }
}
