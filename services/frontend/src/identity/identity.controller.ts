import { SecretClient } from '@azure/keyvault-secrets';
import { ServiceBusClient } from '@azure/service-bus';
import { BlobServiceClient } from '@azure/storage-blob';
import {
  Controller,
  Get,
  Header,
  Inject,
  NotFoundException,
  Req,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import { IdentityReporter, probes } from '@wi/azure';
import type { IdentityReport } from '@wi/contracts';
import type { Request, Response } from 'express';
import { FRONTEND_CONFIG, type FrontendConfig } from '../config/frontend-config.js';
import { BackendClient, BackendUnavailableError } from '../documents/backend-client.js';
import { renderIdentityPage } from './identity.page.js';

/** The backend API's app role the frontend is granted (infra/identities.json, calls). */
const BACKEND_APP_ROLE = 'Documents.Read';

/**
 * GET /identity: the Identity page for a browser, the frontend's own report as JSON otherwise.
 * GET /api/identity/backend: the backend's report, which the backend gives only to a caller with
 * its app role (this service). Both are public pages of the frontend: IDENTITY_PAGE=off turns
 * them into 404s (what the AKS Deployment sets); reports are cached briefly and built once at a
 * time, so requesting them often costs the data planes nothing more.
 */
@Controller()
export class IdentityController {
  constructor(
    private readonly reporter: IdentityReporter,
    private readonly backend: BackendClient,
    private readonly secrets: SecretClient,
    private readonly blobs: BlobServiceClient,
    private readonly serviceBus: ServiceBusClient,
    @Inject(FRONTEND_CONFIG) private readonly config: FrontendConfig,
  ) {}

  @Get('identity')
  @Header('cache-control', 'no-store')
  async identity(@Req() request: Request, @Res() response: Response): Promise<void> {
    this.requireEnabled();
    if (request.accepts(['application/json', 'text/html']) !== 'text/html') {
      response.json(await this.ownReport());
      return;
    }
    const [own, backend] = await Promise.all([this.ownReport(), this.backendReport(request)]);
    response.type('html').send(renderIdentityPage(own, backend));
  }

  @Get('api/identity/backend')
  @Header('cache-control', 'no-store')
  async backendIdentity(@Req() request: Request): Promise<IdentityReport> {
    this.requireEnabled();
    const report = await this.backendReport(request);
    if ('unavailable' in report) throw new ServiceUnavailableException(report.unavailable);
    return report;
  }

  private requireEnabled(): void {
    if (this.config.identityPage === 'off') throw new NotFoundException();
  }

  private ownReport(): Promise<IdentityReport> {
    const c = this.config;
    // The reporter adds a read of every declared name the frontend's roles do not reach (the
    // backend's secret, today), from infra/identities.json.
    return this.reporter.report(() => [
      probes.readSecret(this.secrets, c.sessionSecretName),
      probes.listBlobs(this.blobs, c.uploadsContainer),
      probes.send(this.serviceBus, c.documentsQueue),
      // The service-to-service hop: a token for the backend's API, and the backend's verdict.
      probes.callApi('backend', c.backendApiScope, BACKEND_APP_ROLE, () => this.backend.caller()),
      probes.receive(this.serviceBus, c.documentsQueue, 'denied'),
    ]);
  }

  private async backendReport(request: Request): Promise<IdentityReport | { unavailable: string }> {
    try {
      return await this.backend.identity(String(request.id));
    } catch (error) {
      if (error instanceof BackendUnavailableError) return { unavailable: error.message };
      throw error;
    }
  }
}
