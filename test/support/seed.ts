import { randomUUID } from 'node:crypto';
import { WorkloadIdentityCredential } from '@azure/identity';
import { ServiceBusClient, type ServiceBusMessage } from '@azure/service-bus';
import { BlobServiceClient } from '@azure/storage-blob';
import type { DocumentUploadedMessage } from '@wi/contracts';
import type { LocalCloud } from '@wi/local-azure';

/** A service's own identity, through its projected token file, with exactly its pod's variables. */
export function serviceCredential(cloud: LocalCloud, service: string): WorkloadIdentityCredential {
  const env = cloud.env(service);
  return new WorkloadIdentityCredential({
    tenantId: env.AZURE_TENANT_ID!,
    clientId: env.AZURE_CLIENT_ID!,
    tokenFilePath: env.AZURE_FEDERATED_TOKEN_FILE!,
    authorityHost: env.AZURE_AUTHORITY_HOST!,
    disableInstanceDiscovery: true,
  });
}

/** The frontend's identity: the only one allowed to upload and send. */
export function frontendCredential(cloud: LocalCloud): WorkloadIdentityCredential {
  return serviceCredential(cloud, 'frontend');
}

/**
 * Uploads documents the way the frontend does (blob, then document.uploaded), with the
 * frontend's own identity through its token file: the only identity allowed to do both.
 * Faster than going through HTTP when a test needs hundreds of documents.
 */
export async function seedDocuments(
  cloud: LocalCloud,
  count: number,
  text = (i: number) => `document ${i}\nline two`,
): Promise<string[]> {
  const env = cloud.env('frontend');
  const credential = frontendCredential(cloud);
  const container = new BlobServiceClient(
    env.AZURE_STORAGE_BLOB_ENDPOINT!,
    credential,
  ).getContainerClient('uploads');
  const serviceBus = new ServiceBusClient(
    env.AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE!,
    credential,
  );
  const sender = serviceBus.createSender('documents');
  const ids: string[] = [];
  try {
    const messages: ServiceBusMessage[] = [];
    for (let start = 0; start < count; start += 25) {
      const batch = Array.from({ length: Math.min(25, count - start) }, (_, k) => start + k);
      await Promise.all(
        batch.map(async (i) => {
          const id = randomUUID();
          const content = Buffer.from(text(i));
          await container.getBlockBlobClient(id).upload(content, content.length, {
            blobHTTPHeaders: { blobContentType: 'text/plain' },
          });
          const body: DocumentUploadedMessage = {
            type: 'document.uploaded',
            schemaVersion: 1,
            documentId: id,
            blobName: id,
            fileName: `doc-${i}.txt`,
            contentType: 'text/plain',
            size: content.length,
            uploadedAt: new Date().toISOString(),
          };
          ids.push(id);
          messages.push({ messageId: id, contentType: 'application/json', body });
        }),
      );
    }
    for (let start = 0; start < messages.length; start += 100) {
      await sender.sendMessages(messages.slice(start, start + 100));
    }
  } finally {
    await sender.close();
    await serviceBus.close();
  }
  return ids;
}

/** Records in Cosmos, counted per id: a duplicate would show as a count above one. */
export async function recordCounts(cloud: LocalCloud): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const item of await cloud.cosmos.items('intake', 'documents')) {
    const id = String(item.id);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}
