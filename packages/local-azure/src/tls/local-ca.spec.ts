import { once } from 'node:events';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureLocalCa } from './local-ca.js';

describe('ensureLocalCa', () => {
  it('issues server certificates that a client trusting only the CA accepts', async () => {
    const ca = await ensureLocalCa(await mkdtemp(join(tmpdir(), 'ca-')));
    const server = createServer(
      await ca.issueServerCertificate(['localhost', '127.0.0.1']),
      (_req, res) => res.end('trusted'),
    ).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const body = await new Promise<string>((resolve, reject) => {
      request({ host: '127.0.0.1', servername: 'localhost', port, ca: ca.caCertPem }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    server.close();
    expect(body).toBe('trusted');
  });

  it('keeps the same CA across starts so NODE_EXTRA_CA_CERTS stays valid', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ca-'));
    const first = await ensureLocalCa(dir);
    const second = await ensureLocalCa(dir);
    expect(second.caCertPem).toBe(first.caCertPem);
  });

  it('rejects a certificate for a name it was not issued for', async () => {
    const ca = await ensureLocalCa(await mkdtemp(join(tmpdir(), 'ca-')));
    const server = createServer(await ca.issueServerCertificate(['localhost']), (_req, res) =>
      res.end(),
    ).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const error = await new Promise<Error>((resolve) => {
      request(
        { host: '127.0.0.1', servername: 'other.example', port, ca: ca.caCertPem },
        () => undefined,
      )
        .on('error', resolve)
        .end();
    });
    server.close();
    expect(error.message).toMatch(/altnames|Hostname/i);
  });
});
