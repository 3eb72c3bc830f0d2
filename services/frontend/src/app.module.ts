import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AzureModule, ServiceLoggerModule } from '@wi/azure';
import cookieParser from 'cookie-parser';
import { AzureUnavailableFilter } from './common/filters/azure-unavailable.filter.js';
import { SameOriginGuard } from './common/guards/same-origin.guard.js';
import { FrontendConfigModule } from './config/config.module.js';
import { DocumentsModule } from './documents/documents.module.js';
import { HealthModule } from './health/health.module.js';
import { IdentityModule } from './identity/identity.module.js'; // [showcase]
import { UploadsModule } from './uploads/uploads.module.js';
import { securityHeaders } from './web/security-headers.middleware.js';
import { WebModule } from './web/web.module.js';

@Module({
  imports: [
    ServiceLoggerModule.forRoot('frontend'),
    // The frontend has no Cosmos role and gets no Cosmos client: it reads records through the backend.
    AzureModule.forRoot({ resources: ['keyVault', 'blob', 'serviceBus'] }),
    FrontendConfigModule,
    DocumentsModule,
    UploadsModule,
    WebModule,
    HealthModule,
    IdentityModule, // [showcase] (docs/forking.md)
  ],
  // Cross-cutting, once for every route: the same-origin check, and Azure failures as a 503.
  providers: [
    { provide: APP_GUARD, useClass: SameOriginGuard },
    { provide: APP_FILTER, useClass: AzureUnavailableFilter },
  ],
})
export class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(securityHeaders, cookieParser()).forRoutes('*');
  }
}
