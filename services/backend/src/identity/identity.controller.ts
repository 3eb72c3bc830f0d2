import { CosmosClient } from '@azure/cosmos';
import { SecretClient } from '@azure/keyvault-secrets';
import { ServiceBusClient } from '@azure/service-bus';
import { BlobServiceClient } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/core-auth';
import { Controller, Get, Header, Inject, Req } from '@nestjs/common';
import { AZURE_CREDENTIAL, IdentityReporter, probes } from '@wi/azure';
import type { IdentityReport } from '@wi/contracts';
import { EntraTokenVerifier, type VerifiedCaller } from '../common/auth/entra-token.verifier.js';
import { DOCUMENTS_READ, RequireAppRole } from '../common/decorators/app-role.decorator.js';
import type { AuthenticatedRequest } from '../common/guards/app-role.guard.js';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend-config.js';

/**
 * GET /identity, for the frontend's Identity page, and only for a caller with the API's app role
 * (the report names identities and resources). Each permission of the backend's roles, and two it
 * must not have: sending to the queue it consumes, and calling its own API with its own identity
 * (no app role is assigned to it). The reporter adds a read of every declared name the backend's
 * roles do not reach (the frontend's secret, today), from infra/identities.json.
 */
@Controller('identity')
@RequireAppRole(DOCUMENTS_READ)
export class IdentityController {
  constructor(
    private readonly reporter: IdentityReporter,
    private readonly verifier: EntraTokenVerifier,
    @Inject(AZURE_CREDENTIAL) private readonly credential: TokenCredential,
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
    const ownApiScope = `api://${c.apiAudience}/.default`;
    return this.reporter.report(() => [
      probes.readSecret(this.secrets, c.signingSecretName),
      probes.listBlobs(this.blobs, c.uploadsContainer),
      probes.receive(this.serviceBus, c.documentsQueue),
      probes.readContainer(this.cosmos, c.cosmosDatabase, c.cosmosContainer),
      probes.send(this.serviceBus, c.documentsQueue, 'denied'),
      probes.callApi(
        'backend',
        ownApiScope,
        DOCUMENTS_READ,
        () => this.callOwnApi(ownApiScope),
        'denied',
      ),
    ]);
  }

  /** Who the API sees: the frontend's probe of the service-to-service hop calls this. */
  @Get('caller')
  @Header('cache-control', 'no-store')
  caller(@Req() request: AuthenticatedRequest): VerifiedCaller {
    return request.caller!;
  }

  /**
   * What a request of the backend's own identity would meet: Entra refuses the token
   * (AADSTS501051, no app role assigned), or, if it issued one, the guard's role check does.
   */
  private async callOwnApi(scope: string): Promise<void> {
    const token = await this.credential.getToken(scope);
    if (!token) throw new Error(`no token for ${scope}`);
    const caller = await this.verifier.verify(token.token);
    if (!caller.roles.includes(DOCUMENTS_READ)) {
      throw Object.assign(
        new Error(`MissingAppRole: the token's roles are [${caller.roles.join(', ')}]`),
        { statusCode: 403, code: 'MissingAppRole' },
      );
    }
  }
}
