// OpenTelemetry first: its hooks must be in place before the instrumented modules (http, the
// Azure SDK, pino) load, and static imports all load before any code runs. So only telemetry is
// imported statically; the application follows once it has started. The start command stays
// `node dist/main.js` (pnpm dev, the tests, the container image).
import { startTelemetry } from '@wi/telemetry';

await startTelemetry({ serviceName: 'backend' });
await import('./server.js');
