/**
 * The permissions (data actions, plus the container read action Blob checks for container
 * operations) of the built-in roles this app uses, as Azure defines them
 * (role-based-access-control/built-in-roles; Cosmos: reference-data-plane-security).
 * Keyed by role definition id, which is what a role assignment names.
 */
export const BUILT_IN_ROLE_DATA_ACTIONS: Readonly<
  Record<string, { name: string; dataActions: readonly string[] }>
> = {
  '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1': {
    name: 'Storage Blob Data Reader',
    dataActions: [
      'Microsoft.Storage/storageAccounts/blobServices/containers/read',
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
    ],
  },
  'ba92f5b4-2d11-453d-a403-e96b0029c9fe': {
    name: 'Storage Blob Data Contributor',
    dataActions: [
      'Microsoft.Storage/storageAccounts/blobServices/containers/read',
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete',
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write',
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action',
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action',
    ],
  },
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': {
    name: 'Storage Blob Data Owner',
    dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/*'],
  },
  '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39': {
    name: 'Azure Service Bus Data Sender',
    dataActions: ['Microsoft.ServiceBus/*/send/action'],
  },
  '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0': {
    name: 'Azure Service Bus Data Receiver',
    dataActions: ['Microsoft.ServiceBus/*/receive/action'],
  },
  '090c5cfd-751d-490a-894a-3ce6f1109419': {
    name: 'Azure Service Bus Data Owner',
    dataActions: ['Microsoft.ServiceBus/*'],
  },
  '4633458b-17de-408a-b874-0445c86b69e6': {
    name: 'Key Vault Secrets User',
    dataActions: [
      'Microsoft.KeyVault/vaults/secrets/getSecret/action',
      'Microsoft.KeyVault/vaults/secrets/readMetadata/action',
    ],
  },
  // Application Insights ingestion with Entra ID (its local auth disabled). The local cloud has no
  // Azure Monitor: listed so that the file's grants read the same here as in Azure.
  '3913510d-42f4-4e42-8a64-420c390055eb': {
    name: 'Monitoring Metrics Publisher',
    dataActions: ['Microsoft.Insights/Metrics/Write', 'Microsoft.Insights/Telemetry/Write'],
  },
  '00000000-0000-0000-0000-000000000001': {
    name: 'Cosmos DB Built-in Data Reader',
    dataActions: [
      'Microsoft.DocumentDB/databaseAccounts/readMetadata',
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/read',
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/executeQuery',
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/readChangeFeed',
    ],
  },
  '00000000-0000-0000-0000-000000000002': {
    name: 'Cosmos DB Built-in Data Contributor',
    dataActions: [
      'Microsoft.DocumentDB/databaseAccounts/readMetadata',
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/*',
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/*',
    ],
  },
};

/** Azure's wildcard rule for actions: `*` matches any run of characters, including `/`. */
export function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return regex.test(action);
}
