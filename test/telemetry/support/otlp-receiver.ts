import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RunningStack, startStack } from '../../support/local-stack.js';

/** An OTLP attribute value as OTLP/HTTP JSON encodes it. */
type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
};
type KeyValue = { key: string; value: AnyValue };

export interface ReceivedSpan {
  service: string;
  scope: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
  startNs: bigint;
  endNs: bigint;
}

export interface ReceivedDataPoint {
  service: string;
  metric: string;
  attributes: Record<string, unknown>;
  /** Sum value, or the histogram's count. */
  value: number;
}

export const SpanKind = { server: 2, client: 3, producer: 4, consumer: 5 } as const;

function value(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  return undefined;
}

function attributes(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, value(kv.value)]));
}

/**
 * An OTLP/HTTP receiver (JSON encoding: OTEL_EXPORTER_OTLP_PROTOCOL=http/json) on loopback, as a
 * collector would be: the services export to it, the test reads what arrived.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly points: ReceivedDataPoint[] = [];
  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpReceiver> {
    const server = createServer();
    const receiver = new OtlpReceiver(server);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (request.url === '/v1/traces') receiver.addTraces(body);
          if (request.url === '/v1/metrics') receiver.addMetrics(body);
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } catch {
          response.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The variables that make a service export traces and metrics here, quickly. */
  env(): Record<string, string> {
    return {
      OTEL_EXPORTER_OTLP_ENDPOINT: this.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRIC_EXPORT_INTERVAL: '500',
    };
  }

  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((span) => span.traceId === traceId);
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }

  private addTraces(body: {
    resourceSpans?: {
      resource?: { attributes?: KeyValue[] };
      scopeSpans?: {
        scope?: { name?: string };
        spans?: {
          name: string;
          traceId: string;
          spanId: string;
          parentSpanId?: string;
          kind: number;
          attributes?: KeyValue[];
          links?: { traceId: string; spanId: string }[];
          startTimeUnixNano: string;
          endTimeUnixNano: string;
        }[];
      }[];
    }[];
  }) {
    for (const resourceSpans of body.resourceSpans ?? []) {
      const service = String(attributes(resourceSpans.resource?.attributes)['service.name']);
      for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
        for (const span of scopeSpans.spans ?? []) {
          this.spans.push({
            service,
            scope: scopeSpans.scope?.name ?? '',
            name: span.name,
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId || undefined,
            kind: span.kind,
            attributes: attributes(span.attributes),
            links: (span.links ?? []).map(({ traceId, spanId }) => ({ traceId, spanId })),
            startNs: BigInt(span.startTimeUnixNano),
            endNs: BigInt(span.endTimeUnixNano),
          });
        }
      }
    }
  }

  private addMetrics(body: {
    resourceMetrics?: {
      resource?: { attributes?: KeyValue[] };
      scopeMetrics?: {
        metrics?: {
          name: string;
          sum?: { dataPoints?: { attributes?: KeyValue[]; asInt?: string; asDouble?: number }[] };
          histogram?: { dataPoints?: { attributes?: KeyValue[]; count?: string | number }[] };
        }[];
      }[];
    }[];
  }) {
    for (const resourceMetrics of body.resourceMetrics ?? []) {
      const service = String(attributes(resourceMetrics.resource?.attributes)['service.name']);
      for (const scopeMetrics of resourceMetrics.scopeMetrics ?? []) {
        for (const metric of scopeMetrics.metrics ?? []) {
          for (const point of metric.sum?.dataPoints ?? [])
            this.points.push({
              service,
              metric: metric.name,
              attributes: attributes(point.attributes),
              value: Number(point.asInt ?? point.asDouble ?? 0),
            });
          for (const point of metric.histogram?.dataPoints ?? [])
            this.points.push({
              service,
              metric: metric.name,
              attributes: attributes(point.attributes),
              value: Number(point.count ?? 0),
            });
        }
      }
    }
  }
}

/** The latest exported value of a cumulative metric, per service and attribute set. */
export function latest(
  points: readonly ReceivedDataPoint[],
  service: string,
  metric: string,
  match: Record<string, unknown> = {},
): number | undefined {
  const found = points.filter(
    (point) =>
      point.service === service &&
      point.metric === metric &&
      Object.entries(match).every(([key, expected]) => point.attributes[key] === expected),
  );
  if (found.length === 0) return undefined;
  // Cumulative temporality: per attribute set the last point is the total; sum across sets.
  const lastPerSet = new Map<string, number>();
  for (const point of found) lastPerSet.set(JSON.stringify(point.attributes), point.value);
  return [...lastPerSet.values()].reduce((a, b) => a + b, 0);
}

/** The trace as an indented tree, one span a line: what docs/tracing.md shows. */
export function renderTrace(spans: readonly ReceivedSpan[]): string {
  const byParent = new Map<string | undefined, ReceivedSpan[]>();
  const ids = new Set(spans.map((span) => span.spanId));
  for (const span of spans) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : undefined;
    byParent.set(parent, [...(byParent.get(parent) ?? []), span]);
  }
  const start = spans.reduce(
    (min, span) => (span.startNs < min ? span.startNs : min),
    spans[0]!.startNs,
  );
  const kinds = ['', 'internal', 'server', 'client', 'producer', 'consumer'];
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    const children = (byParent.get(parent) ?? []).sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
    for (const span of children) {
      const offset = Number(span.startNs - start) / 1e6;
      const duration = Number(span.endNs - span.startNs) / 1e6;
      lines.push(
        `${`+${offset.toFixed(1)}`.padStart(8)} ms ${duration.toFixed(1).padStart(7)} ms  ` +
          `${span.service.padEnd(8)} ${'  '.repeat(depth)}${span.name} [${kinds[span.kind] ?? span.kind}, ${span.scope}]`,
      );
      walk(span.spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines.join('\n');
}

/** Both services, exporting traces and metrics to a receiver of their own: one traced stack. */
export async function startTracedStack(): Promise<{
  receiver: OtlpReceiver;
  stack: RunningStack;
  stop(): Promise<void>;
}> {
  const receiver = await OtlpReceiver.start();
  try {
    const stack = await startStack({ frontendEnv: receiver.env(), backendEnv: receiver.env() });
    return {
      receiver,
      stack,
      async stop() {
        await stack.stop();
        await receiver.stop();
      },
    };
  } catch (error) {
    await receiver.stop();
    throw error;
  }
}
