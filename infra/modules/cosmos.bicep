// Cosmos DB for NoSQL, serverless, with key auth disabled: the data plane accepts only Entra
// tokens, authorized by Cosmos DB's own SQL role assignments (workload-role-assignments.bicep).

import { resourceTags } from 'types.bicep'

@description('Account name: globally unique, 3-44 lowercase letters, digits and hyphens.')
@minLength(3)
@maxLength(44)
param name string

@description('Azure region of the account.')
param location string

@description('Tags for every resource.')
param tags resourceTags

@description('Public network access off (networkIsolation): reachable only through its private endpoint.')
param isolated bool

@description('Log Analytics workspace of the diagnostic setting.')
param logAnalyticsWorkspaceId string

@description('Database the backend writes records to.')
param databaseName string

@description('Container of document records.')
param containerName string

@description('Partition key path; the backend partitions by document id.')
param partitionKeyPath string

resource account 'Microsoft.DocumentDB/databaseAccounts@2026-03-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    capabilities: [
      {
        name: 'EnableServerless'
      }
    ]
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    // Primary/secondary keys and resource tokens are rejected: Entra tokens only.
    disableLocalAuth: true
    // Databases and containers change through Azure Resource Manager only, never with a key.
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: isolated ? 'Disabled' : 'Enabled'
    // Point-in-time restore to any second of the last 7 days. Continuous7Days has no backup
    // storage charge (Continuous30Days is billed per GB); a restore is billed per GB restored.
    // Periodic to continuous is a one-way change.
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        tier: 'Continuous7Days'
      }
    }
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2026-03-15' = {
  parent: account
  name: databaseName
  properties: {
    // Serverless: no throughput to provision.
    resource: {
      id: databaseName
    }
  }
}

resource container 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2026-03-15' = {
  parent: database
  name: containerName
  properties: {
    resource: {
      id: containerName
      partitionKey: {
        paths: [partitionKeyPath]
        kind: 'Hash'
        version: 2
      }
    }
  }
}


// Data-plane and control-plane requests (with the Entra principal of each), in resource-specific tables.
#disable-next-line use-recent-api-versions // the newest version; the only GA one (2016-09-01) predates category groups
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: account
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
  }
}
@description('Account id, for its private endpoint.')
output id string = account.id

@description('Document endpoint (https://<name>.documents.azure.com:443/): AZURE_COSMOS_ENDPOINT.')
output endpoint string = account.properties.documentEndpoint

@description('Database name, once created.')
output databaseName string = database.name

@description('Container name, once created.')
output containerName string = container.name
