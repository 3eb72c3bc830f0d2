import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrontendClient } from '../support/frontend-client.js';
import { type RunningStack, poll, repoRoot } from '../support/local-stack.js';
import {
  type ReceivedSpan,
  type OtlpReceiver,
  latest,
  startTracedStack,
} from './support/otlp-receiver.js';

const DOCUMENTS = 20;

type Resource = 'blob' | 'cosmos' | 'serviceBus' | 'keyVault' | 'entra';

/**
 * What one document costs in requests to each Azure service, counted from the spans of real
 * uploads (the Azure SDK's and the HTTP instrumentation's, so every request is one span): the
 * numbers docs/capacity.md prices. Counted per trace, after a warm-up upload, so start-up work
 * (token exchanges, the first Key Vault read, opening links) is not charged to documents.
 */
describe('requests per document, from the traces of real uploads', () => {
  let receiver: OtlpReceiver;
  let stack: RunningStack;
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => ({ receiver, stack, stop } = await startTracedStack()));
  afterAll(async () => stop?.());

  it('counts Blob, Cosmos DB, Service Bus, Key Vault and Entra requests per upload', async () => {
    const client = new FrontendClient(stack.frontend.url);
    await client.openPage();
    const upload = (i: number) =>
      client.uploadText(`counted-${i}.txt`, `document ${i}\n`.repeat(20));
    const processed = async (id: string) =>
      poll(
        async () => {
          // What the page does until the document is processed: one status poll at least.
          const response = await fetch(`${stack.frontend.url}/api/uploads/${id}`);
          const body = (await response.json()) as { status?: string };
          return body.status === 'processed' ? id : undefined;
        },
        15_000,
        100,
      );

    await processed(await upload(0)); // warm-up: tokens, secrets, links
    const ids: string[] = [];
    for (let i = 1; i <= DOCUMENTS; i++) ids.push(await upload(i));
    for (const id of ids) await processed(id);

    // Each document's trace: from its upload request to the worker's completion.
    const traces = await poll(async () => {
      const found = ids.map((id) => {
        const processing = receiver.spans.find(
          (s) => s.name === 'process documents' && s.attributes['messaging.message.id'] === id,
        );
        return processing ? receiver.trace(processing.traceId) : undefined;
      });
      return found.every((t) => t?.some((s) => s.name === 'ServicebusReceiver.complete'))
        ? (found as ReceivedSpan[][])
        : undefined;
    });

    const endpoints = stack.cloud.env('backend');
    const hostOf = (url: string | undefined) => (url ? new URL(url).host : '');
    const hosts: Record<string, Resource> = {
      [hostOf(endpoints.AZURE_STORAGE_BLOB_ENDPOINT)]: 'blob',
      [hostOf(endpoints.AZURE_KEYVAULT_URL)]: 'keyVault',
      [hostOf(endpoints.AZURE_AUTHORITY_HOST)]: 'entra',
    };
    const resourceOf = (span: ReceivedSpan): Resource | undefined => {
      if (span.attributes['db.system.name'] === 'azure.cosmosdb') return 'cosmos';
      if (
        span.scope === '@azure/service-bus' &&
        /\.(send|complete|abandon|deadLetter)/i.test(span.name)
      )
        return 'serviceBus';
      if (span.kind !== 3 || span.scope !== '@azure/core-rest-pipeline') return undefined;
      const url = String(span.attributes['url.full'] ?? span.attributes['http.url'] ?? '');
      return hosts[hostOf(url)];
    };
    const count = (spans: ReceivedSpan[], divisor: number) => {
      const counts: Record<string, Record<string, number>> = {};
      for (const span of spans) {
        const resource = resourceOf(span);
        if (!resource) continue;
        const key = `${span.service} ${resource}`;
        counts[key] ??= {};
        counts[key]![span.name] = (counts[key]![span.name] ?? 0) + 1;
      }
      for (const operations of Object.values(counts))
        for (const name of Object.keys(operations)) operations[name]! /= divisor;
      return counts;
    };
    const perDocument = count(traces.flat(), DOCUMENTS);
    // The page's status polls (GET /api/uploads/:id), each a trace of its own: one per document
    // at least, once all are exported.
    const polls = await poll(async () => {
      const found = receiver.spans.filter(
        (s) => s.service === 'frontend' && s.name === 'GET /api/uploads/:id' && !s.parentSpanId,
      );
      const complete = found.every((root) =>
        receiver.trace(root.traceId).some((s) => s.name === 'read documents'),
      );
      return found.length >= DOCUMENTS + 1 && complete ? found : undefined;
    });
    const perStatusPoll = count(
      polls.flatMap((root) => receiver.trace(root.traceId)),
      polls.length,
    );
    // Deliveries are not spans of their own (the receive link prefetches): the worker's counter.
    const deliveries = await poll(async () => {
      const value = latest(receiver.points, 'backend', 'intake.messages.received') ?? 0;
      return value >= DOCUMENTS + 1 ? value : undefined;
    });

    // Stored for docs/capacity.md.
    const dir = join(repoRoot, 'test-results/telemetry');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'calls-per-document.json'),
      `${JSON.stringify({ documents: DOCUMENTS, perDocument, deliveries, statusPolls: polls.length, perStatusPoll }, null, 2)}\n`,
    );

    // The upload: two Blob writes (a staged block and the block list) and one message.
    expect(perDocument['frontend blob']).toEqual({ 'HTTP PUT': 2 });
    expect(perDocument['frontend serviceBus']).toEqual({ 'ServiceBusSender.send': 1 });
    // The worker: one Blob read, one Cosmos DB create, one completion.
    expect(perDocument['backend blob']).toEqual({ 'HTTP GET': 1 });
    expect(perDocument['backend cosmos']).toEqual({ 'create documents': 1 });
    expect(perDocument['backend serviceBus']).toEqual({ 'ServicebusReceiver.complete': 1 });
    // Keys and tokens are cached: no Key Vault read and no token exchange per document.
    expect(Object.keys(perDocument).filter((key) => /keyVault|entra/.test(key))).toEqual([]);
    expect(deliveries).toBe(DOCUMENTS + 1);
    // A status poll reads the record from Cosmos DB (through the backend) and, while there is
    // none yet, checks that the blob exists.
    expect(perStatusPoll['backend cosmos']).toEqual({ 'read documents': 1 });
  });
});
