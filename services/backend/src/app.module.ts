import { Module } from '@nestjs/common';
import { AzureModule, ServiceLoggerModule } from '@wi/azure';
import { AuthModule } from './common/auth/auth.module.js';
import { BackendConfigModule } from './config/config.module.js';
import { DocumentsModule } from './documents/documents.module.js';
import { HealthModule } from './health/health.module.js';
import { IdentityModule } from './identity/identity.module.js';
import { IntakeModule } from './intake/intake.module.js';

@Module({
  imports: [
    ServiceLoggerModule.forRoot('backend'),
    AzureModule.forRoot({ resources: ['keyVault', 'blob', 'serviceBus', 'cosmos'] }),
    BackendConfigModule,
    AuthModule,
    DocumentsModule,
    IntakeModule,
    HealthModule,
    IdentityModule,
  ],
})
export class AppModule {}
