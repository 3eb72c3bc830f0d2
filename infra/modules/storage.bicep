// Blob Storage: Entra ID only (no account keys, no SAS), no anonymous blobs, and one private
// container per name the declaration lists (identities.json resources.storage.containers).

import { resourceTags } from 'types.bicep'

@description('Storage account name: globally unique, 3-24 lowercase letters and digits.')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the account.')
param location string

@description('Tags for every resource.')
param tags resourceTags

@description('Public network access off (networkIsolation): reachable only through its private endpoint.')
param isolated bool

@description('Log Analytics workspace of the diagnostic setting.')
param logAnalyticsWorkspaceId string

@description('Days a deleted blob, blob version or container stays recoverable.')
@minValue(1)
@maxValue(365)
param deleteRetentionDays int

@description('The declared containers (resources.storage.containers), each created private.')
param containerNames string[]

resource account 'Microsoft.Storage/storageAccounts@2026-06-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    // Shared keys off: account keys, account SAS and service SAS all stop working; every request
    // carries an Entra token and is checked against role assignments.
    allowSharedKeyAccess: false
    // The portal and tools default to Entra ID too, instead of trying keys first.
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: isolated ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: 'None'
      defaultAction: isolated ? 'Deny' : 'Allow'
    }
    accessTier: 'Hot'
  }
}

// Recovery: a deleted blob or container comes back within deleteRetentionDays, and every write
// keeps the previous content as a version. Together with the frontend's role (Storage Blob Data
// Contributor, which has no deleteBlobVersion or permanentDelete action, and a condition in
// workload-role-assignments.bicep) no workload identity can destroy an upload for good.
resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2026-06-01' = {
  parent: account
  name: 'default'
  properties: {
    isVersioningEnabled: true
    deleteRetentionPolicy: {
      enabled: true
      days: deleteRetentionDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: deleteRetentionDays
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-06-01' = [
  for containerName in containerNames: {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]


// StorageRead, StorageWrite and StorageDelete of the blob service: who touched which upload.
#disable-next-line use-recent-api-versions // the newest version; the only GA one (2016-09-01) predates category groups
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: blobService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
  }
}

@description('Account id, for its private endpoint.')
output id string = account.id

@description('Blob endpoint (https://<name>.blob.core.windows.net/): AZURE_STORAGE_BLOB_ENDPOINT.')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('The container names, once created (in the declared order).')
output containerNames string[] = [for (containerName, i) in containerNames: containers[i].name]
