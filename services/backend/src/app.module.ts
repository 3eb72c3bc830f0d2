import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AzureModule, ServiceLoggerModule } from '@wi/azure';
import { AuthModule } from './common/auth/auth.module.js';
import { AzureUnavailableFilter } from './common/filters/azure-unavailable.filter.js';
import { BackendConfigModule } from './config/config.module.js';
import { DocumentsModule } from './documents/documents.module.js';
import { HealthModule } from './health/health.module.js';
import { IdentityModule } from './identity/identity.module.js'; // [showcase]
import { IntakeModule } from './intake/intake.module.js';
import { OpenApiModule } from './openapi/openapi.module.js';

@Module({
  imports: [
    ServiceLoggerModule.forRoot('backend'),
    AzureModule.forRoot({ resources: ['keyVault', 'blob', 'serviceBus', 'cosmos'] }),
    BackendConfigModule,
    AuthModule,
    DocumentsModule,
    IntakeModule,
    HealthModule,
    IdentityModule, // [showcase] (docs/forking.md)
    OpenApiModule,
  ],
  // Cross-cutting, once for every route: Azure failures become a 503 (the guard and the bearer
  // challenge filter are AuthModule's).
  providers: [{ provide: APP_FILTER, useClass: AzureUnavailableFilter }],
})
export class AppModule {}
