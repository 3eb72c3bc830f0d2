import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobEmulator, STORAGE_RESOURCE } from './blob/index.js';
import { COSMOS_RESOURCE, CosmosEmulator } from './cosmos/index.js';
import {
  identitiesWith,
  loadIdentities,
  usedResourceEnvironment,
  type IdentitiesFile,
} from './identities/index.js';
import { KeyVaultEmulator, LOCAL_VAULT_RESOURCE } from './key-vault/index.js';
import { SERVICE_BUS_RESOURCE, ServiceBusEmulator } from './service-bus/index.js';
import { LocalSts } from './sts/index.js';
import { writeCaBundle } from './tls/ca-bundle.js';
import { ensureLocalCa } from './tls/local-ca.js';
import { v1Issuer } from './sts/access-token-claims.js';
import { serviceApiEnv } from './sts/service-api-env.js';
import { RoleAssignments } from './authorization/role-assignments.js';

const SERVICE_BUS_SEND = 'Microsoft.ServiceBus/namespaces/queues/send/action';
const SERVICE_BUS_RECEIVE = 'Microsoft.ServiceBus/namespaces/queues/receive/action';

/** Azure Monitor's ingestion audience: the services export telemetry with the same credential. */
const MONITOR_RESOURCE = 'https://monitor.azure.com';

/** A fixed local tenant, so token files and env files stay valid across restarts. */
export const LOCAL_TENANT_ID = '4f3a8c2e-1b7d-4e9a-9c55-0d1e2f3a4b5c';

export interface LocalCloudPorts {
  sts: number;
  keyVault: number;
  blob: number;
  cosmos: number;
  serviceBus: number;
}

/** Ports `pnpm dev` uses; tests pass 0 everywhere to get free ports. */
export const DEFAULT_PORTS: LocalCloudPorts = {
  sts: 4443,
  keyVault: 4444,
  blob: 10000,
  cosmos: 8081,
  serviceBus: 5671,
};

export interface LocalCloudOptions {
  /** Token files, persisted blobs and secrets. */
  stateDir: string;
  /** Where the local CA lives (default: stateDir); tests share the CA the test runner trusts. */
  caDir?: string;
  identitiesFile: string;
  ports?: Partial<LocalCloudPorts>;
  tenantId?: string;
  /** Keep blobs and secrets under stateDir across restarts (dev); tests keep them in memory. */
  persist?: boolean;
  /** The projected service account token's lifetime; 3600 s, the AKS webhook's default. */
  serviceAccountTokenLifetimeSeconds?: number;
  /** Access tokens' lifetime; 3600 s (Entra's are 60–90 min for workload identities). */
  accessTokenLifetimeSeconds?: number;
  /**
   * The repository (`owner/name`) that `github-repository` stands for in the deploy identities'
   * federated credentials, as GITHUB_REPOSITORY does for azd; `local/repository` by default.
   */
  deployRepository?: string;
  /** Overrides every queue's lock duration (the declaration's); fault tests shorten it. */
  queueLockDurationMs?: number;
  log?: (event: Record<string, unknown>) => void;
}

export const LOCALHOST_PRELOAD = fileURLToPath(
  new URL('../preload/localhost-dns.cjs', import.meta.url),
);

/**
 * The whole local cloud in one process: the cluster's OIDC issuer and the kubelet's token files,
 * an Entra-compatible token endpoint, and the four data planes, all over TLS from one local CA,
 * all checking the tokens the services obtained through the real workload-identity exchange.
 */
export class LocalCloud {
  private constructor(
    readonly identities: IdentitiesFile,
    readonly caCertPath: string,
    /** Public roots plus the local CA, for runtimes that take one file (see env()). */
    readonly caBundlePath: string,
    readonly sts: LocalSts,
    readonly keyVault: KeyVaultEmulator,
    readonly blob: BlobEmulator,
    readonly cosmos: CosmosEmulator,
    readonly serviceBus: ServiceBusEmulator,
    readonly serviceBusNamespace: string,
  ) {}

  static async start(options: LocalCloudOptions): Promise<LocalCloud> {
    const ports = { ...DEFAULT_PORTS, ...options.ports };
    const tenantId = options.tenantId ?? LOCAL_TENANT_ID;
    const log = options.log ?? (() => undefined);
    // The local cloud is the default deployment: an identity of an optional feature (one that
    // belongs to a cluster add-on, say) has no workload here, so it gets no token file, client id
    // or roles, as in Azure with the feature off.
    const file = await loadIdentities(options.identitiesFile);
    const identities = identitiesWith(file);
    // Exactly the resources the declaration lists: the local cloud knows no app of its own.
    const { resources } = file;
    for (const skipped of file.identities.filter((i) => !identities.identities.includes(i))) {
      log({
        event: 'identity-skipped',
        identity: skipped.managedIdentityName,
        reason: `feature '${skipped.feature}' has no local counterpart`,
      });
    }
    const ca = await ensureLocalCa(options.caDir ?? options.stateDir);
    const tls = await ca.issueServerCertificate([
      'localhost',
      '*.vault.localhost',
      '127.0.0.1',
      '::1',
    ]);
    const persistDir = options.persist ? options.stateDir : undefined;

    const sts = new LocalSts({
      port: ports.sts,
      tls,
      tenantId,
      identities,
      stateDir: options.stateDir,
      serviceAccountTokenLifetimeSeconds: options.serviceAccountTokenLifetimeSeconds,
      accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds,
      deployRepository: options.deployRepository,
      // The tenant's resource principals: tokens for anything else get AADSTS500011.
      resources: [
        STORAGE_RESOURCE,
        SERVICE_BUS_RESOURCE,
        LOCAL_VAULT_RESOURCE,
        COSMOS_RESOURCE,
        MONITOR_RESOURCE,
      ],
      log,
    });
    await sts.start();
    const jwks = () => sts.jwks();
    const common = { tls, jwks, log, authorityHost: sts.authorityHost, tenantId };
    // Every data plane enforces the role assignments of infra/identities.json, as Azure RBAC does.
    const rbac = new RoleAssignments(identities);

    const keyVault = new KeyVaultEmulator({
      ...common,
      port: ports.keyVault,
      vaultName: resources.keyVault.localName,
      stateDir: persistDir,
      authorize: (claims, action, secret) => rbac.check(claims, 'keyVault', action, { secret }),
    });
    const blob = new BlobEmulator({
      ...common,
      caCertPem: ca.caCertPem,
      port: ports.blob,
      stateDir: persistDir,
      authorize: (claims, action, scope) => rbac.check(claims, 'storage', action, scope),
    });
    const cosmos = new CosmosEmulator({
      ...common,
      port: ports.cosmos,
      authorize: (claims, action, scope) => rbac.check(claims, 'cosmos', action, scope),
    });
    const serviceBus = new ServiceBusEmulator({
      tls,
      jwks,
      log,
      port: ports.serviceBus,
      issuer: { issuers: [v1Issuer(tenantId)], tenantId },
      // A topic's subscription is in its topic's scope; the declaration scopes roles to entities.
      authorize: (claims, action, entity) =>
        rbac.check(
          claims,
          'serviceBus',
          action === 'send' ? SERVICE_BUS_SEND : SERVICE_BUS_RECEIVE,
          { queue: entity.name },
        ),
      queues: resources.serviceBus.queues.map((queue) => ({
        name: queue.name,
        maxDeliveryCount: queue.maxDeliveryCount,
        lockDurationMs: options.queueLockDurationMs ?? queue.lockDurationSeconds * 1000,
      })),
    });
    const started = await Promise.all([
      keyVault.start(),
      blob.start(),
      cosmos.start(),
      serviceBus.start(),
    ]);
    const serviceBusPort = started[3].port;
    // The Cosmos account's own endpoint is a resource too (https://<account>.documents.azure.com
    // in Azure), known once the emulator listens.
    sts.addResource(cosmos.endpoint);

    for (const name of resources.keyVault.secrets) {
      await keyVault.ensureSecret(name, () => randomBytes(32).toString('base64url'));
    }
    for (const container of resources.storage.containers) await blob.ensureContainer(container);
    for (const database of resources.cosmos.databases) {
      await cosmos.ensureDatabase(database.name);
      for (const container of database.containers) {
        await cosmos.ensureContainer(database.name, container.name, container.partitionKeyPath);
      }
    }

    return new LocalCloud(
      identities,
      ca.caCertPath,
      await writeCaBundle(options.caDir ?? options.stateDir, ca.caCertPem),
      sts,
      keyVault,
      blob,
      cosmos,
      serviceBus,
      // On Service Bus's own port (pnpm dev) a plain host name, the one form every SDK accepts
      // (.NET takes no port in the namespace); on another port (tests) host:port, which the JS
      // SDK accepts and .NET reaches with CustomEndpointAddress (docs/other-languages.md).
      serviceBusPort === 5671 ? 'localhost' : `localhost:${serviceBusPort}`,
    );
  }

  /**
   * Exactly what the AKS webhook injects into a pod of this service (client id, tenant, token
   * file, authority host), plus what the Deployment sets (the endpoints, and
   * AZURE_TOKEN_CREDENTIALS, which keeps DefaultAzureCredential to WorkloadIdentityCredential so
   * a broken exchange fails with its own error instead of falling through to managed identity
   * or a developer login), plus the two variables that make Node trust the local CA and resolve
   * *.localhost. Nothing else differs from AKS.
   */
  env(service: string): Record<string, string> {
    const identity = this.identities.identities.find((candidate) => candidate.service === service);
    return {
      // The names of the resources it uses, from the declaration (its `uses`).
      ...usedResourceEnvironment(identity?.uses),
      ...serviceApiEnv(this.identities, service),
      AZURE_CLIENT_ID: this.sts.clientId(service),
      AZURE_TENANT_ID: this.sts.tenantId,
      AZURE_FEDERATED_TOKEN_FILE: this.sts.tokenFilePath(service),
      AZURE_AUTHORITY_HOST: this.sts.authorityHost,
      AZURE_TOKEN_CREDENTIALS: 'WorkloadIdentityCredential',
      AZURE_KEYVAULT_URL: this.keyVault.vaultUrl,
      AZURE_STORAGE_BLOB_ENDPOINT: this.blob.endpoint,
      AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE: this.serviceBusNamespace,
      AZURE_COSMOS_ENDPOINT: this.cosmos.endpoint,
      // Each runtime's own way to trust the local CA: Node adds one certificate to its store;
      // .NET, OpenSSL and Go (SSL_CERT_FILE) and Python requests (REQUESTS_CA_BUNDLE) replace
      // their store with a file, so they get the bundle of public roots plus the local CA.
      NODE_EXTRA_CA_CERTS: this.caCertPath,
      SSL_CERT_FILE: this.caBundlePath,
      REQUESTS_CA_BUNDLE: this.caBundlePath,
      NODE_OPTIONS: `--require ${LOCALHOST_PRELOAD}`,
    };
  }

  /**
   * Writes `<dir>/<service>.env` for each service: what a workload in any language sources to
   * run as that service against this cloud (`set -a; . .local-azure/env/<service>.env; set +a`).
   */
  async writeEnvFiles(dir: string): Promise<string[]> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const written: string[] = [];
    for (const identity of this.identities.identities) {
      const file = join(dir, `${identity.service}.env`);
      const lines = Object.entries(this.env(identity.service)).map(
        ([key, value]) => `${key}=${JSON.stringify(value)}`,
      );
      await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
      written.push(file);
    }
    return written;
  }

  async stop(): Promise<void> {
    await Promise.allSettled([
      this.serviceBus.stop(),
      this.cosmos.stop(),
      this.blob.stop(),
      this.keyVault.stop(),
    ]);
    await this.sts.stop();
  }
}
