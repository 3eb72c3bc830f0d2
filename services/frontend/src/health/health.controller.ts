import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { AzureHealthIndicators } from '@wi/azure';
import { FRONTEND_CONFIG, type FrontendConfig } from '../config/frontend-config.js';

@Controller('healthz')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly azure: AzureHealthIndicators,
    @Inject(FRONTEND_CONFIG) private readonly config: FrontendConfig,
  ) {}

  /** The process answers: restart it only when it does not. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /**
   * Every resource the frontend uses, through its own identity and roles. The backend is not
   * probed: its outage shows on the page, and should not take the upload form out of service.
   */
  @Get('ready')
  @HealthCheck()
  ready() {
    const c = this.config;
    return this.health.check([
      () => this.azure.keyVaultSecret('keyVault', c.sessionSecretName),
      () => this.azure.blobContainer('blob', c.uploadsContainer),
      () => this.azure.serviceBusSender('serviceBus', c.documentsQueue),
    ]);
  }
}
