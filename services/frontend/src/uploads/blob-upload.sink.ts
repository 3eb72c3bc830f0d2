import type { Readable } from 'node:stream';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { Inject, Injectable } from '@nestjs/common';
import { FRONTEND_CONFIG, type FrontendConfig } from '../config/frontend-config.js';
import type { UploadSink } from './receive-upload.js';

// uploadStream holds at most (concurrency + 1) blocks in memory, whatever the file size.
const BLOCK_BYTES = 1024 * 1024;
const CONCURRENCY = 2;

/**
 * Streams into `uploads/<id>` as staged blocks; the blob only exists once the block list is
 * committed at the end of the stream, so an aborted upload leaves nothing visible (uncommitted
 * blocks are discarded by the service).
 */
@Injectable()
export class BlobUploadSink implements UploadSink {
  private readonly container: ContainerClient;

  constructor(blobs: BlobServiceClient, @Inject(FRONTEND_CONFIG) config: FrontendConfig) {
    this.container = blobs.getContainerClient(config.uploadsContainer);
  }

  async store(id: string, body: Readable, contentType: string, signal: AbortSignal): Promise<void> {
    await this.container.getBlockBlobClient(id).uploadStream(body, BLOCK_BYTES, CONCURRENCY, {
      abortSignal: signal,
      blobHTTPHeaders: { blobContentType: contentType },
      // Ids are fresh UUIDs; refusing to overwrite makes that an invariant, not an assumption.
      conditions: { ifNoneMatch: '*' },
    });
  }

  async exists(id: string): Promise<boolean> {
    return this.container.getBlockBlobClient(id).exists();
  }

  async discard(id: string): Promise<void> {
    await this.container.getBlockBlobClient(id).deleteIfExists();
  }
}
