import { Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AZURE_CONFIG, type AzureConfig } from '@wi/azure';
import { BACKEND_CONFIG, type BackendConfig } from '../../config/backend-config.js';
import { BearerChallengeFilter } from '../filters/bearer-challenge.filter.js';
import { AppRoleGuard } from '../guards/app-role.guard.js';
import { EntraTokenVerifier } from './entra-token.verifier.js';

/**
 * Service-to-service authorization: the same workload identity vocabulary as the data planes.
 * The issuer is the authority the webhook injects (AZURE_AUTHORITY_HOST, AZURE_TENANT_ID), the
 * audience this API's app registration (API_AUDIENCE).
 */
@Global()
@Module({
  providers: [
    {
      provide: EntraTokenVerifier,
      useFactory: (azure: AzureConfig, config: BackendConfig) =>
        new EntraTokenVerifier({
          authorityHost: azure.authorityHost,
          tenantId: azure.tenantId,
          audience: config.apiAudience,
        }),
      inject: [AZURE_CONFIG, BACKEND_CONFIG],
    },
    { provide: APP_GUARD, useClass: AppRoleGuard },
    { provide: APP_FILTER, useClass: BearerChallengeFilter },
  ],
  exports: [EntraTokenVerifier],
})
export class AuthModule {}
