// The local cloud as a container (the Dockerfile's `local-cloud` target), for docker-compose.yml.
// The same LocalCloud as `pnpm dev` (OIDC issuer, token endpoint, Key Vault, Blob, Cosmos DB,
// Service Bus, on the same ports), plus what a container needs to hand to its neighbours:
//   /var/lib/local-azure            state: the CA and its key, blobs, secrets (private volume)
//   /var/lib/local-azure/tokens/S   service S's projected token; compose mounts one volume per
//                                   service here, and the same volume read-only in that service
//                                   only, at /var/run/secrets/azure/tokens (the AKS path)
//   /run/local-azure                public volume: ca.pem (not its key) and the *.localhost preload,
//                                   mounted read-only in the services at /etc/local-azure
// The servers listen on loopback: the services share this container's network namespace
// (network_mode: service:local-cloud), so https://localhost:4443 means the same as under pnpm dev.
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCALHOST_PRELOAD, LocalCloud } from './dist/index.js';

const stateDir = process.env.LOCAL_AZURE_STATE_DIR ?? '/var/lib/local-azure';
const publicDir = process.env.LOCAL_AZURE_PUBLIC_DIR ?? '/run/local-azure';
const identitiesFile = process.env.LOCAL_AZURE_IDENTITIES ?? '/app/identities.json';
const readyFile = '/tmp/local-cloud-ready';
const verbose = process.env.LOG_LEVEL === 'debug';

/** Copies a file into the public volume atomically, so a service never reads half of it. */
async function publish(source, name) {
  const target = join(publicDir, name);
  await copyFile(source, `${target}.tmp`);
  await rename(`${target}.tmp`, target);
}

await rm(readyFile, { force: true });
const cloud = await LocalCloud.start({
  stateDir,
  identitiesFile,
  persist: true,
  log: verbose ? (event) => console.log(JSON.stringify(event)) : undefined,
});
await mkdir(publicDir, { recursive: true });
await publish(cloud.caCertPath, 'ca.pem');
await publish(LOCALHOST_PRELOAD, 'localhost-dns.cjs');

// What each service must be given, as its container sees it (docker-compose.yml sets exactly this).
for (const identity of cloud.identities.identities) {
  const env = {
    ...cloud.env(identity.service),
    AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token',
    NODE_EXTRA_CA_CERTS: '/etc/local-azure/ca.pem',
    NODE_OPTIONS: '--require /etc/local-azure/localhost-dns.cjs',
  };
  console.log(
    `${identity.service}: ${Object.entries(env)
      .map(([key, value]) => `${key}=${value}`)
      .join(' ')}`,
  );
}
await writeFile(readyFile, `${new Date().toISOString()}\n`);
console.log(
  `local cloud ready; issuer ${cloud.sts.issuerUrl}, authority ${cloud.sts.authorityHost}`,
);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await rm(readyFile, { force: true });
  await cloud.stop();
  process.exit(0);
}
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
