#!/usr/bin/env node
// The baseline for bench/pipeline.mjs: the same work as the backend's worker (download the
// blob, SHA-256 it, upsert a record, complete the message) written as a bare Azure SDK loop,
// no NestJS, no signing, no retries. Started by pipeline.mjs with the backend's environment.
import { createHash } from 'node:crypto';
import { CosmosClient } from '@azure/cosmos';
import { DefaultAzureCredential } from '@azure/identity';
import { ServiceBusClient } from '@azure/service-bus';
import { BlobServiceClient } from '@azure/storage-blob';

const credential = new DefaultAzureCredential({ disableInstanceDiscovery: true });
const container = new BlobServiceClient(
  process.env.AZURE_STORAGE_BLOB_ENDPOINT,
  credential,
).getContainerClient('uploads');
const records = new CosmosClient({
  endpoint: process.env.AZURE_COSMOS_ENDPOINT,
  aadCredentials: credential,
})
  .database('intake')
  .container('documents');
const serviceBus = new ServiceBusClient(
  process.env.AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE,
  credential,
);
const receiver = serviceBus.createReceiver('documents');
receiver.subscribe(
  {
    processMessage: async (message) => {
      const body = message.body;
      const download = await container.getBlobClient(body.blobName).download();
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of download.readableStreamBody) {
        hash.update(chunk);
        size += chunk.length;
      }
      await records.items.upsert({
        id: body.documentId,
        size,
        sha256: hash.digest('hex'),
        processedAt: new Date().toISOString(),
      });
      await receiver.completeMessage(message);
    },
    processError: async () => {},
  },
  {
    autoCompleteMessages: false,
    maxConcurrentCalls: Number(process.env.WORKER_MAX_CONCURRENCY ?? 8),
  },
);
console.log('ready');
process.on('SIGTERM', async () => {
  await receiver.close();
  await serviceBus.close();
  process.exit(0);
});
