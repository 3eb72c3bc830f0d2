import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ServiceBusClient } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrontendClient } from '../support/frontend-client.js';
import { type RunningStack, poll, repoRoot } from '../support/local-stack.js';
import { frontendCredential } from '../support/seed.js';
import {
  type ReceivedSpan,
  SpanKind,
  type OtlpReceiver,
  latest,
  renderTrace,
  startTracedStack,
} from './support/otlp-receiver.js';

/**
 * Both services export to an OTLP/HTTP receiver on loopback (the standard OTEL_* variables, as
 * a collector would be configured); one upload must arrive as one trace spanning both services,
 * across the Service Bus queue, down to the Cosmos DB create.
 */
describe('telemetry across the queue', () => {
  let receiver: OtlpReceiver;
  let stack: RunningStack;
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => ({ receiver, stack, stop } = await startTracedStack()));
  afterAll(async () => stop?.());

  it('makes one upload one trace, from the frontend request to the Cosmos DB create', async () => {
    const client = new FrontendClient(stack.frontend.url);
    const id = await client.uploadText('traced.txt', 'one upload,\none trace\n');

    // The worker's span for this message, once exported: it ends after the create and completion.
    const processing = await poll(
      async () =>
        receiver.spans.find(
          (span) =>
            span.service === 'backend' &&
            span.name === 'process documents' &&
            span.attributes['messaging.message.id'] === id,
        ),
      15_000,
      50,
    );
    const traceId = processing.traceId;
    const spans = await poll(async () => {
      const trace = receiver.trace(traceId);
      return trace.some((span) => span.name === 'ServicebusReceiver.complete') ? trace : undefined;
    });
    const find = (service: string, name: string, kind?: number): ReceivedSpan => {
      const span = spans.find(
        (s) => s.service === service && s.name === name && (kind === undefined || s.kind === kind),
      );
      expect(span, `${service}: ${name}\n${renderTrace(spans)}`).toBeDefined();
      return span!;
    };

    // The browser's request is the root: the frontend's server span, no parent.
    const request = find('frontend', 'POST /uploads', SpanKind.server);
    expect(request.parentSpanId).toBeUndefined();
    expect(request.attributes['http.route']).toBe('/uploads');
    // Blob upload and the message, by the Azure SDK's own instrumentation, under the request.
    const upload = find('frontend', 'BlockBlobClient-uploadStream');
    expect(upload.parentSpanId).toBe(request.spanId);
    const message = find('frontend', 'message', SpanKind.producer);
    expect(message.parentSpanId).toBe(request.spanId);
    find('frontend', 'ServiceBusSender.send', SpanKind.client);

    // Across the queue: the message's traceparent (Diagnostic-Id) is the consumer span's parent.
    expect(processing.kind).toBe(SpanKind.consumer);
    expect(processing.parentSpanId).toBe(message.spanId);
    expect(processing.attributes).toMatchObject({
      'messaging.system': 'servicebus',
      'messaging.destination.name': 'documents',
      'messaging.servicebus.message.delivery_count': 1,
      'intake.outcome': 'completed',
    });
    // ...and links to the SDK's own processing span, which starts a trace of its own.
    const sdkProcess = receiver.spans.find(
      (span) =>
        span.name === 'StreamReceiver.process' && span.spanId === processing.links[0]?.spanId,
    );
    expect(sdkProcess?.service).toBe('backend');

    // The backend's work, each a child of the consumer span.
    const download = find('backend', 'BlobClient-download');
    // Created, never upserted: a record is not overwritten.
    const upsert = find('backend', 'create documents', SpanKind.client);
    const complete = find('backend', 'ServicebusReceiver.complete');
    for (const span of [download, upsert, complete])
      expect(span.parentSpanId).toBe(processing.spanId);
    expect(upsert.attributes).toMatchObject({
      'db.system.name': 'azure.cosmosdb',
      'db.namespace': 'intake',
      'db.collection.name': 'documents',
      'db.operation.name': 'create',
    });
    // Order: stored, announced, read, upserted, completed (start times: the SDK takes them from
    // a millisecond clock, so an end and the next start can appear to overlap).
    const starts = [upload, message, processing, download, upsert, complete].map((s) => s.startNs);
    expect(starts).toEqual([...starts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));

    // Logs carry the trace id, in both services.
    const logLine = (output: string[], text: string) =>
      output
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((entry) => entry.msg === text && entry.documentId === id);
    expect(logLine(stack.frontend.output, 'document uploaded')).toMatchObject({
      trace_id: traceId,
    });
    expect(logLine(stack.backend.output, 'message completed')).toMatchObject({ trace_id: traceId });

    // Kept for docs/tracing.md: the trace as a tree.
    const dir = join(repoRoot, 'test-results/telemetry');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'upload-trace.txt'), `trace ${traceId}\n${renderTrace(spans)}\n`);
  });

  it('exports the metrics an operator needs: documents in and out, durations, tokens', async () => {
    // A poison message, sent with the frontend's identity as the integration test does.
    const serviceBus = new ServiceBusClient(
      stack.cloud.env('frontend').AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE!,
      frontendCredential(stack.cloud),
    );
    const sender = serviceBus.createSender('documents');
    try {
      await sender.sendMessages({ messageId: 'poison-telemetry', body: { schemaVersion: 99 } });
    } finally {
      await sender.close();
      await serviceBus.close();
    }

    const points = () => receiver.points;
    await poll(
      async () =>
        (latest(points(), 'backend', 'intake.documents.dead_lettered', {
          reason: 'MalformedMessage',
        }) ?? 0) >= 1 || undefined,
      15_000,
      100,
    );
    expect(latest(points(), 'frontend', 'intake.documents.received')).toBeGreaterThanOrEqual(1);
    expect(latest(points(), 'frontend', 'intake.documents.size')).toBeGreaterThanOrEqual(1);
    expect(latest(points(), 'backend', 'intake.messages.received')).toBeGreaterThanOrEqual(2);
    expect(latest(points(), 'backend', 'intake.documents.processed')).toBeGreaterThanOrEqual(1);
    expect(
      latest(points(), 'backend', 'intake.documents.processing.duration', { outcome: 'completed' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      latest(points(), 'backend', 'intake.documents.processing.duration', {
        outcome: 'dead-lettered',
      }),
    ).toBeGreaterThanOrEqual(1);

    // One token exchange per audience (the single-flight credential), none failed.
    const audiences = (service: string) =>
      Object.fromEntries(
        receiver.points
          .filter((p) => p.service === service && p.metric === 'azure.identity.token.acquisitions')
          .map((p) => [
            `${p.attributes['azure.identity.audience']} ${p.attributes.outcome}`,
            p.value,
          ]),
      );
    // Key Vault's audience comes from its challenge (the local vault's domain here).
    const vault = `https://${new URL(stack.cloud.env('backend').AZURE_KEYVAULT_URL!).hostname.split('.').slice(1).join('.')}`;
    expect(audiences('backend')).toEqual({
      [`${vault} success`]: 1,
      'https://storage.azure.com success': 1,
      'https://servicebus.azure.net success': 1,
      [`${cosmosAudience(stack)} success`]: 1,
    });
    // The frontend also gets one token for the backend's API (its app registration's scope).
    const backendApi = stack.cloud.env('frontend').BACKEND_API_SCOPE!.replace(/\/\.default$/, '');
    expect(audiences('frontend')).toEqual({
      [`${vault} success`]: 1,
      'https://storage.azure.com success': 1,
      'https://servicebus.azure.net success': 1,
      [`${backendApi} success`]: 1,
    });
  });
});

/** The Cosmos DB SDK asks for a token for its account endpoint (`https://<account>:port`). */
function cosmosAudience(stack: RunningStack): string {
  return new URL(stack.cloud.env('backend').AZURE_COSMOS_ENDPOINT!).origin;
}
