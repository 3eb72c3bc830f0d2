import type { CosmosClient } from '@azure/cosmos';
import type { SecretClient } from '@azure/keyvault-secrets';
import type { ServiceBusClient } from '@azure/service-bus';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { ProbeExpectation, ProbeResource } from '@wi/contracts';

/** One check of one permission, run with the service's own clients (and so its own identity). */
export interface ProbeDefinition {
  resource: ProbeResource;
  action: string;
  dataAction: string;
  scope: string;
  expected: ProbeExpectation;
  run: () => Promise<unknown>;
}

type Expected = ProbeExpectation;

// Every probe only reads, or attaches a link without sending: a probe that is wrongly allowed
// must not change anything.
export const probes = {
  readSecret: (
    secrets: SecretClient,
    name: string,
    expected: Expected = 'allowed',
  ): ProbeDefinition => ({
    resource: 'keyVault',
    action: `read secret ${name}`,
    dataAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action',
    scope: `secrets/${name}`,
    expected,
    run: () => secrets.getSecret(name),
  }),

  listBlobs: (
    blobs: BlobServiceClient,
    container: string,
    expected: Expected = 'allowed',
  ): ProbeDefinition => ({
    resource: 'blob',
    action: `list blobs in ${container}`,
    dataAction: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
    scope: `containers/${container}`,
    expected,
    run: () =>
      blobs.getContainerClient(container).listBlobsFlat().byPage({ maxPageSize: 1 }).next(),
  }),

  /** Attaching a sender is where Service Bus checks Send; the empty batch is never sent. */
  send: (
    serviceBus: ServiceBusClient,
    queue: string,
    expected: Expected = 'allowed',
  ): ProbeDefinition => ({
    resource: 'serviceBus',
    action: `send to ${queue}`,
    dataAction: 'Microsoft.ServiceBus/namespaces/messages/send/action',
    scope: `queues/${queue}`,
    expected,
    run: async () => {
      const sender = serviceBus.createSender(queue);
      try {
        await sender.createMessageBatch();
      } finally {
        await sender.close();
      }
    },
  }),

  /** Peek needs Listen but locks nothing, so it can never steal the worker's message. */
  receive: (
    serviceBus: ServiceBusClient,
    queue: string,
    expected: Expected = 'allowed',
  ): ProbeDefinition => ({
    resource: 'serviceBus',
    action: `receive from ${queue}`,
    dataAction: 'Microsoft.ServiceBus/namespaces/messages/receive/action',
    scope: `queues/${queue}`,
    expected,
    run: async () => {
      const receiver = serviceBus.createReceiver(queue);
      try {
        await receiver.peekMessages(1);
      } finally {
        await receiver.close();
      }
    },
  }),

  readContainer: (
    cosmos: CosmosClient,
    database: string,
    container: string,
    expected: Expected = 'allowed',
  ): ProbeDefinition => ({
    resource: 'cosmos',
    action: `read ${database}/${container}`,
    dataAction: 'Microsoft.DocumentDB/databaseAccounts/readMetadata',
    scope: `dbs/${database}`,
    expected,
    run: () => cosmos.database(database).container(container).read(),
  }),

  /**
   * A call to another service's API with a token for its app registration: Entra issues one only
   * to an identity assigned one of the API's app roles (AADSTS501051 otherwise), and the API
   * checks the role the route requires (403 otherwise). `call` gets the token and calls.
   */
  callApi: (
    api: string,
    scope: string,
    appRole: string,
    call: () => Promise<unknown>,
    expected: Expected = 'allowed',
  ): ProbeDefinition => ({
    resource: 'api',
    action: `call the ${api} API`,
    dataAction: `app role ${appRole}`,
    scope: scope.replace(/\/\.default$/, ''),
    expected,
    run: call,
  }),
};
