import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const CA_VALIDITY_DAYS = 3650;
const SERVER_VALIDITY_DAYS = 397;

export interface ServerCertificate {
  cert: string;
  key: string;
}

export interface LocalCa {
  /** PEM file to hand to NODE_EXTRA_CA_CERTS. */
  caCertPath: string;
  caCertPem: string;
  /** A server certificate for the given DNS names and IPs, signed by the CA. */
  issueServerCertificate(names: readonly string[]): Promise<ServerCertificate>;
}

/**
 * The local CA that every emulator's TLS certificate chains to. Made once per checkout
 * (under a git-ignored folder) so that NODE_EXTRA_CA_CERTS can point at a stable file.
 */
export async function ensureLocalCa(stateDir: string): Promise<LocalCa> {
  const dir = join(stateDir, 'ca');
  const caCertPath = join(dir, 'ca.pem');
  const caKeyPath = join(dir, 'ca-key.pem');
  if (!existsSync(caCertPath) || !existsSync(caKeyPath)) {
    await mkdir(dir, { recursive: true });
    const { certPem, keyPem } = await createCa();
    // The key first: a reader that finds ca.pem must also find its key.
    await writeFile(caKeyPath, keyPem, { mode: 0o600 });
    await writeFile(caCertPath, certPem);
  }
  const caCertPem = await readFile(caCertPath, 'utf8');
  const caCert = new x509.X509Certificate(caCertPem);
  const caKey = await importPrivateKey(await readFile(caKeyPath, 'utf8'));
  return {
    caCertPath,
    caCertPem,
    issueServerCertificate: (names) => issueServerCertificate(caCert, caKey, names),
  };
}

/**
 * Certificates are valid from a day before they are issued: a container or VM whose clock runs
 * behind the issuer's (or a test whose processes run the clock fast) still accepts them.
 */
const NOT_BEFORE_SLACK_MS = 86_400_000;

async function createCa(): Promise<{ certPem: string; keyPem: string }> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const now = new Date();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=Workload Identity sample local CA ${now.toISOString().slice(0, 10)}`,
    notBefore: new Date(now.getTime() - NOT_BEFORE_SLACK_MS),
    notAfter: new Date(now.getTime() + CA_VALIDITY_DAYS * 86_400_000),
    signingAlgorithm: ALGORITHM,
    keys: keys as CryptoKeyPair,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as CryptoKey),
    ],
  });
  return {
    certPem: cert.toString('pem'),
    keyPem: await exportPrivateKey(keys.privateKey as CryptoKey),
  };
}

async function issueServerCertificate(
  caCert: x509.X509Certificate,
  caKey: CryptoKey,
  names: readonly string[],
): Promise<ServerCertificate> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const now = new Date();
  const altNames = names.map((name) =>
    /^[\d.]+$|:/.test(name)
      ? { type: 'ip' as const, value: name }
      : { type: 'dns' as const, value: name },
  );
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${names[0] ?? 'localhost'}`,
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - NOT_BEFORE_SLACK_MS),
    notAfter: new Date(now.getTime() + SERVER_VALIDITY_DAYS * 86_400_000),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey as CryptoKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(altNames),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { cert: cert.toString('pem'), key: await exportPrivateKey(keys.privateKey as CryptoKey) };
}

async function exportPrivateKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const body = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd();
  return `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign']) as Promise<CryptoKey>;
}

function randomSerial(): string {
  // Positive 16-byte serial: first byte's top bit cleared.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f;
  return Buffer.from(bytes).toString('hex');
}
