// The application: imported by main.ts once telemetry has started.
import 'reflect-metadata';
import { runService } from '@wi/azure';
import { AppModule } from './app.module.js';
import { FRONTEND_CONFIG, type FrontendConfig } from './config/frontend-config.js';

await runService(AppModule, {
  name: 'frontend',
  // PORT has one reader, the validated configuration (default 3000).
  port: (app) => app.get<FrontendConfig>(FRONTEND_CONFIG).port,
});
