import { Global, Module } from '@nestjs/common';
import { FRONTEND_CONFIG, loadFrontendConfig } from './frontend-config.js';

@Global()
@Module({
  providers: [{ provide: FRONTEND_CONFIG, useFactory: () => loadFrontendConfig(process.env) }],
  exports: [FRONTEND_CONFIG],
})
export class FrontendConfigModule {}
