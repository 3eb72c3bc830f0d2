import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';

/**
 * A CA bundle for runtimes that take one file of trusted roots and no "extra" certificate:
 * OpenSSL and .NET on Linux (SSL_CERT_FILE), Go (SSL_CERT_FILE), Python requests
 * (REQUESTS_CA_BUNDLE). It holds the public roots (Node's copy of Mozilla's store, the same set
 * the Debian and Alpine ca-certificates packages carry) plus the local CA, so that a workload
 * trusts the local cloud without losing the rest of the internet.
 */
export async function writeCaBundle(dir: string, localCaPem: string): Promise<string> {
  const path = join(dir, 'ca-bundle.pem');
  const roots = rootCertificates.map((pem) => pem.trim()).join('\n');
  await writeFile(path, `${roots}\n${localCaPem.trim()}\n`, { mode: 0o644 });
  return path;
}
