// The application: imported by main.ts once telemetry has started.
import 'reflect-metadata';
import { runService } from '@wi/azure';
import { AppModule } from './app.module.js';

await runService(AppModule, { name: 'frontend', port: Number(process.env.PORT ?? 3000) });
