import { Readable } from 'node:stream';
import { RestError } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import type { BackendConfig } from '../config/backend-config.js';
import { UploadedBlobMissing, UploadedBlobReader } from './uploaded-blob.reader.js';

/** A BlobServiceClient that knows one blob, `uploads/present`, and answers `fail` for the rest. */
function reader(fail: (name: string) => Error) {
  const read: string[] = [];
  const blobs = {
    getContainerClient: (container: string) => ({
      containerName: container,
      getBlobClient: (name: string) => ({
        download: async () => {
          read.push(`${container}/${name}`);
          if (name !== 'present') throw fail(name);
          return { readableStreamBody: Readable.from([Buffer.from('a'), Buffer.from('b')]) };
        },
      }),
    }),
  };
  const config = { uploadsContainer: 'uploads' } as BackendConfig;
  return { reader: new UploadedBlobReader(blobs as never, config), read };
}

const notFound = () => new RestError('gone', { statusCode: 404, code: 'BlobNotFound' });

describe('UploadedBlobReader', () => {
  it('streams the blob of that name from the uploads container', async () => {
    const { reader: r, read } = reader(notFound);
    const chunks: Buffer[] = [];
    for await (const chunk of await r.read('present')) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe('ab');
    expect(read).toEqual(['uploads/present']);
  });

  it("turns Storage's BlobNotFound into UploadedBlobMissing, naming the blob", async () => {
    await expect(reader(notFound).reader.read('absent')).rejects.toThrow(
      new UploadedBlobMissing('uploads/absent does not exist'),
    );
  });

  it.each([
    [
      'a refused role',
      new RestError('no', { statusCode: 403, code: 'AuthorizationPermissionMismatch' }),
    ],
    ['a missing container', new RestError('no', { statusCode: 404, code: 'ContainerNotFound' })],
    ['an outage', new RestError('down', { code: 'REQUEST_SEND_ERROR' })],
  ])('passes %s through as the SDK threw it', async (_case, error) => {
    await expect(reader(() => error).reader.read('absent')).rejects.toBe(error);
  });
});
