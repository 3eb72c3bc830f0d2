import { describe, expect, it } from 'vitest';
import { exportPlan } from './export-plan.js';

describe('exportPlan', () => {
  it('exports nothing by default (tests, pnpm dev), with spans still on', () => {
    expect(exportPlan({})).toEqual({
      enabled: true,
      traces: [],
      metrics: [],
      metricExportIntervalMs: 60_000,
      warnings: [],
    });
  });

  it('sends OTLP (protobuf over HTTP) once an endpoint is set, as the OTel variables say', () => {
    const plan = exportPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' });
    expect(plan.traces).toEqual(['otlp-http/protobuf']);
    expect(plan.metrics).toEqual(['otlp-http/protobuf']);
    expect(
      exportPlan({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_METRIC_EXPORT_INTERVAL: '500',
      }),
    ).toMatchObject({ traces: ['otlp-http/json'], metrics: [], metricExportIntervalMs: 500 });
  });

  it('takes the per-signal variables and the console exporter', () => {
    expect(
      exportPlan({
        OTEL_TRACES_EXPORTER: 'console',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://collector:4318/v1/metrics',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      }),
    ).toMatchObject({ traces: ['console'], metrics: ['otlp-http/json'] });
  });

  it('sends to Azure Monitor when the Application Insights connection setting is present', () => {
    const connectionString = 'InstrumentationKey=00000000-0000-0000-0000-000000000000';
    expect(exportPlan({ APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString })).toMatchObject({
      azureMonitor: { connectionString },
      traces: [],
      metrics: [],
    });
  });

  it('says which settings it ignores, and turns off entirely with OTEL_SDK_DISABLED', () => {
    expect(
      exportPlan({ OTEL_TRACES_EXPORTER: 'zipkin,otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })
        .warnings,
    ).toEqual([
      'OTEL_TRACES_EXPORTER: unknown exporter zipkin',
      'OTEL_TRACES_EXPORTER=otlp with protocol grpc: only http/protobuf and http/json',
    ]);
    expect(
      exportPlan({
        OTEL_SDK_DISABLED: 'true',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=x',
      }),
    ).toEqual({
      enabled: false,
      traces: [],
      metrics: [],
      metricExportIntervalMs: 60_000,
      warnings: [],
    });
  });
});
