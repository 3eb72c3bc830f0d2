import { Global, Module } from '@nestjs/common';
import { BACKEND_CONFIG, loadBackendConfig } from './backend-config.js';

@Global()
@Module({
  providers: [{ provide: BACKEND_CONFIG, useFactory: () => loadBackendConfig(process.env) }],
  exports: [BACKEND_CONFIG],
})
export class BackendConfigModule {}
