// The application: imported by main.ts once telemetry has started.
import 'reflect-metadata';
import { runService } from '@wi/azure';
import { AppModule } from './app.module.js';
import { BACKEND_CONFIG, type BackendConfig } from './config/backend-config.js';
import { publishOpenApiDocument } from './openapi/openapi-document.js';

await runService(AppModule, {
  name: 'backend',
  // PORT has one reader, the validated configuration (default 3001).
  port: (app) => app.get<BackendConfig>(BACKEND_CONFIG).port,
  configure: publishOpenApiDocument,
});
