// Cosmos DB for NoSQL, serverless, with key auth disabled: the data plane accepts only Entra
// tokens, authorized by Cosmos DB's own SQL role assignments (workload-role-assignments.bicep).
// Every database and container the declaration lists (identities.json resources.cosmos.databases)
// is created here.

import { declaredCosmosDatabase, resourceTags } from 'types.bicep'

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

@description('The declared databases, each with its containers and their partition keys.')
param databases declaredCosmosDatabase[]

// Every container of every database, with the position of its database (its parent below).
var containerList = flatten(map(
  range(0, length(databases)),
  i => map(databases[i].containers, container => {
    databaseIndex: i
    name: container.name
    partitionKeyPath: container.partitionKeyPath
  })
))

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

resource sqlDatabases 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2026-03-15' = [
  for database in databases: {
    parent: account
    name: database.name
    properties: {
      // Serverless: no throughput to provision.
      resource: {
        id: database.name
      }
    }
  }
]

resource sqlContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2026-03-15' = [
  for container in containerList: {
    parent: sqlDatabases[container.databaseIndex]
    name: container.name
    properties: {
      resource: {
        id: container.name
        partitionKey: {
          paths: [container.partitionKeyPath]
          kind: 'Hash'
          version: 2
        }
      }
    }
  }
]

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

@description('The database names, once created (in the declared order).')
output databaseNames string[] = [for (database, i) in databases: sqlDatabases[i].name]

@description('database/container of every container, once created.')
output containerPaths string[] = [for (container, i) in containerList: '${databases[container.databaseIndex].name}/${sqlContainers[i].name}']
