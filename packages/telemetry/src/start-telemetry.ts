import { createRequire } from 'node:module';
import type { IncomingMessage } from 'node:http';
import type { TokenCredential } from '@azure/core-auth';
import { type ExportPlan, type LocalExporter, exportPlan } from './export-plan.js';
import { describeHttpSpan } from './http-span-details.js';
import { telemetryCredential } from './telemetry-credential.js';

export interface TelemetryOptions {
  /** service.name: the cloud role name in Application Insights. */
  serviceName: string;
  env?: NodeJS.ProcessEnv;
}

interface RunningSdk {
  shutdown(): Promise<void>;
}

let running: RunningSdk | undefined;

/**
 * Starts OpenTelemetry's tracer and meter providers with the instrumentations this app needs; must run before
 * any instrumented module is loaded: `main.ts` awaits it, then imports the application.
 *
 * - ESM: the services are ES modules, which the instrumentations' `require` hooks never see, and
 *   an import-in-the-middle loader hook (`--import` / `module.register`) runs every module load of
 *   the app through a second thread: it more than doubled start-up (1.1 s → 2.5 s to ready). None
 *   is needed here: every module this app instruments is CommonJS underneath or reached through a
 *   CommonJS module (express → http, pino-http → pino, @azure/service-bus → @azure/core-tracing),
 *   or is loaded once through `require` below before the app imports it (`http`, `https`,
 *   @azure/core-tracing); undici reports through diagnostics_channel.
 * - HTTP in and out (`http`, `https`, and `fetch` through undici), pino (trace ids in every log
 *   line), and the Azure SDK (Blob, Key Vault, Service Bus, Cosmos DB, Entra token requests):
 *   `@azure/opentelemetry-instrumentation-azure-sdk` plugs OpenTelemetry into `@azure/core-tracing`,
 *   through which every Azure client creates its spans and injects `traceparent`, including
 *   Service Bus' `Diagnostic-Id` application property on each message sent.
 * - Spans are always created (so trace context travels and logs carry trace ids); they are
 *   exported only where {@link exportPlan} says.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<ExportPlan> {
  const env = options.env ?? process.env;
  const plan = exportPlan(env);
  if (!plan.enabled || running) return plan;

  const [
    { metrics },
    { NodeTracerProvider },
    { registerInstrumentations },
    { HttpInstrumentation },
    { UndiciInstrumentation },
    { PinoInstrumentation },
    { createAzureSdkInstrumentation },
    { BatchSpanProcessor, SimpleSpanProcessor, ConsoleSpanExporter },
    { defaultResource, detectResources, envDetector, resourceFromAttributes },
  ] = await Promise.all([
    import('@opentelemetry/api'),
    // The tracer and meter providers and the instrumentation registry, not @opentelemetry/sdk-node:
    // that one loads every exporter it could be configured with (gRPC, Zipkin, Prometheus, logs):
    // 4–7 MiB more memory per pod and 2 MB more image for code this app never runs
    // (bench/results/images.md).
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-undici'),
    import('@opentelemetry/instrumentation-pino'),
    import('@azure/opentelemetry-instrumentation-azure-sdk'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
  ]);
  // Metrics have nowhere to go without an exporter: the API's no-op meter then takes every
  // instrument, and the metrics SDK (its readers, views, aggregation) is not even loaded.
  const exportsMetrics = plan.metrics.length > 0 || plan.azureMonitor !== undefined;
  const metricsSdk = exportsMetrics ? await import('@opentelemetry/sdk-metrics') : undefined;

  // The Azure SDK creates its own span per HTTP request (with the service's operation as parent);
  // without this, the http instrumentation would add a second, identical one under it.
  env.AZURE_HTTP_TRACING_CHILDREN_DISABLED ??= 'true';

  const spanProcessors = [];
  for (const exporter of plan.traces) {
    if (exporter === 'console')
      spanProcessors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));
    else spanProcessors.push(new BatchSpanProcessor(await otlpTraceExporter(exporter)));
  }
  const metricExporters = [];
  for (const exporter of plan.metrics) {
    metricExporters.push(
      exporter === 'console'
        ? new metricsSdk!.ConsoleMetricExporter()
        : await otlpMetricExporter(exporter),
    );
  }
  if (plan.azureMonitor) {
    const { AzureMonitorTraceExporter, AzureMonitorMetricExporter } =
      await import('@azure/monitor-opentelemetry-exporter');
    // Entra authentication for ingestion, with the process's own credential (bound by the Azure
    // module once it exists): the Application Insights resource can then disable local auth.
    const azureOptions = {
      connectionString: plan.azureMonitor.connectionString,
      credential: telemetryCredential as TokenCredential,
    };
    spanProcessors.push(new BatchSpanProcessor(new AzureMonitorTraceExporter(azureOptions)));
    metricExporters.push(new AzureMonitorMetricExporter(azureOptions));
  }
  // No exporter: spans still exist (ids in logs, traceparent on the wire), nothing leaves.
  if (spanProcessors.length === 0) spanProcessors.push(new SimpleSpanProcessor(discardingExporter));

  // As the Node SDK builds it: SDK defaults, then OTEL_RESOURCE_ATTRIBUTES, then this service.
  const resource = defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(
      resourceFromAttributes({
        'service.name': options.serviceName,
        'service.namespace': 'doc-intake',
      }),
    );
  // register(): the global tracer provider, AsyncLocalStorage context, and the propagators of
  // OTEL_PROPAGATORS (W3C trace context and baggage by default); OTEL_TRACES_SAMPLER applies.
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors });
  tracerProvider.register();
  const meterProvider = metricsSdk
    ? new metricsSdk.MeterProvider({
        resource,
        readers: metricExporters.map(
          (exporter) =>
            new metricsSdk.PeriodicExportingMetricReader({
              exporter,
              exportIntervalMillis: plan.metricExportIntervalMs,
              exportTimeoutMillis: Math.min(30_000, plan.metricExportIntervalMs),
            }),
        ),
      })
    : undefined;
  if (meterProvider) metrics.setGlobalMeterProvider(meterProvider);
  // Logs stay on stdout (JSON, with trace ids); the OpenTelemetry log pipeline is not used.
  const unregister = registerInstrumentations({
    tracerProvider,
    meterProvider,
    instrumentations: [
      new HttpInstrumentation({
        // Kubelet probes every few seconds would drown the traces worth reading.
        ignoreIncomingRequestHook: (request: IncomingMessage) =>
          request.url?.startsWith('/healthz') ?? false,
        applyCustomAttributesOnSpan: describeHttpSpan,
      }),
      new UndiciInstrumentation(),
      new PinoInstrumentation({ disableLogSending: true }),
      createAzureSdkInstrumentation(),
    ],
  });
  running = {
    async shutdown() {
      unregister();
      await Promise.all([tracerProvider.shutdown(), meterProvider?.shutdown()]);
    },
  };

  // Each instrumentation patches its module when `require` loads it. Loading them here, before
  // the application imports anything, patches them for ES modules too: an ES module importing
  // `node:http` gets the already patched module, and @azure/core-tracing's CommonJS and ESM builds
  // share one state, so its instrumenter reaches every Azure client, whichever build it uses.
  const load = createRequire(import.meta.url);
  for (const module of ['http', 'https', '@azure/core-tracing']) load(module);

  for (const warning of plan.warnings) process.emitWarning(warning, 'TelemetryWarning');
  return plan;
}

/** Flushes what is buffered and stops exporting; bounded, so it never holds up a shutdown. */
export async function shutdownTelemetry(timeoutMs = 5_000): Promise<void> {
  const sdk = running;
  running = undefined;
  if (!sdk) return;
  await Promise.race([
    sdk.shutdown().catch(() => undefined),
    new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
  ]);
}

async function otlpTraceExporter(kind: Exclude<LocalExporter, 'console'>) {
  if (kind === 'otlp-http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter();
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter();
}

async function otlpMetricExporter(kind: Exclude<LocalExporter, 'console'>) {
  if (kind === 'otlp-http/json') {
    const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-http');
    return new OTLPMetricExporter();
  }
  const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-proto');
  return new OTLPMetricExporter();
}

/** Accepts every span and sends it nowhere. */
const discardingExporter = {
  export: (_spans: unknown[], done: (result: { code: 0 }) => void) => done({ code: 0 }),
  shutdown: async () => undefined,
};
