/**
 * Where telemetry goes, decided from the environment alone (no I/O), so it can be tested and
 * printed. Nothing is exported unless something is configured: tests and `pnpm dev` send nothing
 * by default, yet spans still exist so that trace context travels and logs carry trace ids.
 *
 * - `APPLICATIONINSIGHTS_CONNECTION_STRING` set: traces and metrics to Azure Monitor
 *   (Application Insights), authenticated with the service's own Entra credential.
 * - `OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER` (`otlp`, `console`, `none`, comma-separated):
 *   the standard OpenTelemetry variables. Unset, they default to `otlp` when an OTLP endpoint is
 *   set (`OTEL_EXPORTER_OTLP_ENDPOINT` or its `_TRACES_`/`_METRICS_` form), else to nothing.
 * - `OTEL_EXPORTER_OTLP_PROTOCOL` (or the per-signal form): `http/protobuf` (default) or
 *   `http/json`. gRPC is not bundled.
 * - `OTEL_SDK_DISABLED=true`: no SDK, no instrumentation, nothing loaded.
 */
export type LocalExporter = 'otlp-http/protobuf' | 'otlp-http/json' | 'console';

export interface ExportPlan {
  /** False only with OTEL_SDK_DISABLED=true. */
  enabled: boolean;
  traces: LocalExporter[];
  metrics: LocalExporter[];
  /** Application Insights' connection setting: not a secret once local auth is disabled. */
  azureMonitor?: { connectionString: string };
  metricExportIntervalMs: number;
  /** Settings that were ignored, to be logged once at start. */
  warnings: string[];
}

const DEFAULT_METRIC_INTERVAL_MS = 60_000;

export function exportPlan(env: NodeJS.ProcessEnv): ExportPlan {
  const warnings: string[] = [];
  const enabled = !isTrue(env.OTEL_SDK_DISABLED);
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim();
  const interval = Number(env.OTEL_METRIC_EXPORT_INTERVAL ?? DEFAULT_METRIC_INTERVAL_MS);
  return {
    enabled,
    traces: enabled ? localExporters('TRACES', env, warnings) : [],
    metrics: enabled ? localExporters('METRICS', env, warnings) : [],
    ...(enabled && connectionString ? { azureMonitor: { connectionString } } : {}),
    metricExportIntervalMs:
      Number.isFinite(interval) && interval > 0 ? interval : DEFAULT_METRIC_INTERVAL_MS,
    warnings,
  };
}

function localExporters(
  signal: 'TRACES' | 'METRICS',
  env: NodeJS.ProcessEnv,
  warnings: string[],
): LocalExporter[] {
  const variable = `OTEL_${signal}_EXPORTER`;
  const endpoint =
    env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`]?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const listed = (env[variable] ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const names = listed.length > 0 ? listed : endpoint ? ['otlp'] : [];
  if (names.includes('none')) return [];
  const protocol = (
    env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] ??
    env.OTEL_EXPORTER_OTLP_PROTOCOL ??
    'http/protobuf'
  ).trim();
  const exporters = new Set<LocalExporter>();
  for (const name of names) {
    if (name === 'console') exporters.add('console');
    else if (name === 'otlp' && (protocol === 'http/protobuf' || protocol === 'http/json'))
      exporters.add(`otlp-${protocol}`);
    else if (name === 'otlp')
      warnings.push(`${variable}=otlp with protocol ${protocol}: only http/protobuf and http/json`);
    else warnings.push(`${variable}: unknown exporter ${name}`);
  }
  return [...exporters];
}

function isTrue(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}
