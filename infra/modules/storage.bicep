// Blob Storage for uploaded documents: Entra ID only (no account keys, no SAS), no anonymous
// blobs, one private container.

import { resourceTags } from 'types.bicep'

@description('Storage account name: globally unique, 3-24 lowercase letters and digits.')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the account.')
param location string

@description('Tags for every resource.')
param tags resourceTags

@description('The container the frontend writes uploads to and the backend reads them from.')
param uploadsContainerName string

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
    publicNetworkAccess: 'Enabled'
    accessTier: 'Hot'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2026-06-01' = {
  parent: account
  name: 'default'
}

resource uploads 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-06-01' = {
  parent: blobService
  name: uploadsContainerName
  properties: {
    publicAccess: 'None'
  }
}

@description('Blob endpoint (https://<name>.blob.core.windows.net/): AZURE_STORAGE_BLOB_ENDPOINT.')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('Container name, once created.')
output uploadsContainerName string = uploads.name
