import { BlobServiceClient, type ContainerClient, RestError } from '@azure/storage-blob';
import { Inject, Injectable } from '@nestjs/common';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend-config.js';

/** The message names a blob the uploads container does not hold: retrying cannot bring it. */
export class UploadedBlobMissing extends Error {
  override name = 'UploadedBlobMissing';
}

/**
 * The worker's view of Blob Storage: the bytes of `uploads/<name>`, streamed. The SDK stays
 * behind this adapter (as the frontend's BlobUploadSink), so the worker and its spec deal in
 * chunks and one domain error, not in clients and RestErrors.
 */
@Injectable()
export class UploadedBlobReader {
  private readonly container: ContainerClient;

  constructor(blobs: BlobServiceClient, @Inject(BACKEND_CONFIG) config: BackendConfig) {
    this.container = blobs.getContainerClient(config.uploadsContainer);
  }

  /** Throws UploadedBlobMissing when there is no such blob; any other failure as the SDK's. */
  async read(name: string): Promise<AsyncIterable<Buffer>> {
    try {
      const download = await this.container.getBlobClient(name).download();
      return download.readableStreamBody as AsyncIterable<Buffer>;
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404 && error.code === 'BlobNotFound')
        throw new UploadedBlobMissing(`${this.container.containerName}/${name} does not exist`);
      throw error;
    }
  }
}
