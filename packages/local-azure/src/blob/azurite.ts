import { createRequire } from 'node:module';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/** The parts of Azurite's in-process blob server this emulator uses (Azurite ships no types for them). */
export interface AzuriteBlobServer {
  start(): Promise<void>;
  close(): Promise<void>;
  getHttpServerAddress(): string;
}

/** The account Azurite serves (its well-known development account name; no key is ever used). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';

/**
 * Starts Azurite's blob service in this process over HTTPS with `--oauth basic` (it then accepts
 * bearer tokens; it checks their issuer, audience and lifetime but not the signature, which is
 * why the authorization proxy in front of it verifies every token first).
 */
export async function startAzuriteBlob(options: {
  /** A Unix socket in a private directory: Azurite gets no TCP port anyone could reach it on. */
  socketPath: string;
  tls: { cert: string; key: string; certPath: string; keyPath: string };
  persistDir?: string;
}): Promise<AzuriteBlobServer> {
  const BlobConfiguration = require('azurite/dist/src/blob/BlobConfiguration.js').default;
  const BlobServer = require('azurite/dist/src/blob/BlobServer.js').default;
  const dir = options.persistDir;
  if (dir) {
    // Blobs are the app's data: only this user may read them.
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
  }
  const config = new BlobConfiguration(
    '127.0.0.1',
    0,
    undefined, // keep-alive timeout: Azurite's default
    dir ? join(dir, '__azurite_db_blob__.json') : '__azurite_db_blob__.json',
    dir ? join(dir, '__azurite_db_blob_extent__.json') : '__azurite_db_blob_extent__.json',
    [
      {
        locationId: 'Default',
        locationPath: dir ? join(dir, '__blobstorage__') : '__blobstorage__',
        maxConcurrency: 10,
      },
    ],
    false, // access log
    undefined,
    false, // debug log
    undefined,
    true, // loose: ignore headers Azurite does not implement
    true, // skipApiVersionCheck: the SDK may be newer than Azurite
    options.tls.certPath,
    options.tls.keyPath,
    '',
    'basic',
    true, // disableProductStyleUrl: path-style URLs on localhost
    dir === undefined, // in-memory persistence for tests
  );
  const server = new BlobServer(config) as AzuriteBlobServer & { host?: string; port: unknown };
  // ServerBase.start() calls httpServer.listen(this.port, this.host): a path makes it a socket.
  server.port = options.socketPath;
  server.host = undefined;
  await server.start();
  return server;
}
