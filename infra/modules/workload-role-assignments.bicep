// Every role of infra/identities.json, each at the narrowest scope the data plane supports: one
// blob container, one queue, one secret, one Cosmos DB database, the Application Insights
// component. Nothing here is written per
// service: the file says who gets what, this module only knows how each scope kind is addressed.

import { serviceIdentity, createdIdentity } from 'types.bicep'

@description('The identities of infra/identities.json.')
param identities serviceIdentity[]

@description('The managed identities created for them, in the same order.')
param createdIdentities createdIdentity[]

@description('Storage account holding the containers named in storage scopes.')
param storageAccountName string

@description('Service Bus namespace holding the queues named in serviceBus scopes.')
param serviceBusNamespaceName string

@description('Key Vault holding the secrets named in keyVault scopes.')
param keyVaultName string

@description('Cosmos DB account holding the databases named in cosmos scopes.')
param cosmosAccountName string

@description('The Application Insights component of applicationInsights scopes.')
param applicationInsightsName string

// One flat list: each role of each identity, with the principal it is for.
var assignments = flatten(map(
  range(0, length(identities)),
  i =>
    map(identities[i].roleAssignments, assignment => {
      service: identities[i].service
      principalId: createdIdentities[i].principalId
      role: assignment.role
      roleDefinitionId: assignment.roleDefinitionId
      scope: assignment.scope
    })
))

var storageAssignments = filter(assignments, a => a.scope.resource == 'storage')
var serviceBusAssignments = filter(assignments, a => a.scope.resource == 'serviceBus')
var keyVaultAssignments = filter(assignments, a => a.scope.resource == 'keyVault')
var cosmosAssignments = filter(assignments, a => a.scope.resource == 'cosmos')
var applicationInsightsAssignments = filter(assignments, a => a.scope.resource == 'applicationInsights')

resource storageAccount 'Microsoft.Storage/storageAccounts@2026-06-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-06-01' existing = [
  for a in storageAssignments: {
    parent: storageAccount::blobService
    name: a.scope.container
  }
]

// A condition (Azure ABAC) on every storage role that can delete blobs (of the built-in data roles
// in identities.json, Storage Blob Data Contributor: the frontend's, which discards an upload it
// will not announce). Deleting a blob is allowed only for its current version, never a version or
// snapshot named in the request. With versioning on (storage.bicep) that delete turns the current
// version into a previous one, and the role has neither deleteBlobVersion nor permanentDelete: the
// frontend can hide an upload but never destroy one. ABAC sees neither who wrote a blob nor when,
// so "only what it just uploaded" cannot be said more narrowly without a blob index tag written at
// upload. A custom role without blobs/delete instead would break that discard, and it needs
// roleDefinitions/write at subscription scope and a tenant-unique name, and the local cloud
// enforces the built-in roles only.
// https://learn.microsoft.com/azure/storage/blobs/storage-auth-abac-attributes#delete-a-blob
var blobDeletingRoles = ['ba92f5b4-2d11-453d-a403-e96b0029c9fe'] // Storage Blob Data Contributor
var currentVersionDeleteOnly = '''(
 (
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'})
 )
 OR
 (
  NOT Exists @Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:versionId]
  AND
  NOT Exists @Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:snapshot]
 )
)'''

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (a, i) in storageAssignments: {
    scope: containers[i]
    name: guid(containers[i].id, a.principalId, a.roleDefinitionId)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
      principalId: a.principalId
      // Skips the directory lookup that fails for a principal created seconds ago.
      principalType: 'ServicePrincipal'
      description: '${a.service}: ${a.role} on container ${a.scope.container}'
      condition: contains(blobDeletingRoles, a.roleDefinitionId) ? currentVersionDeleteOnly : null
      conditionVersion: contains(blobDeletingRoles, a.roleDefinitionId) ? '2.0' : null
    }
  }
]

resource serviceBusNamespace 'Microsoft.ServiceBus/namespaces@2026-01-01' existing = {
  name: serviceBusNamespaceName
}

resource queues 'Microsoft.ServiceBus/namespaces/queues@2026-01-01' existing = [
  for a in serviceBusAssignments: {
    parent: serviceBusNamespace
    name: a.scope.queue
  }
]

resource serviceBusRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (a, i) in serviceBusAssignments: {
    scope: queues[i]
    name: guid(queues[i].id, a.principalId, a.roleDefinitionId)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
      principalId: a.principalId
      principalType: 'ServicePrincipal'
      description: '${a.service}: ${a.role} on queue ${a.scope.queue}'
    }
  }
]

resource vault 'Microsoft.KeyVault/vaults@2026-05-15' existing = {
  name: keyVaultName
}

resource secrets 'Microsoft.KeyVault/vaults/secrets@2026-05-15' existing = [
  for a in keyVaultAssignments: {
    parent: vault
    name: a.scope.secret
  }
]

resource keyVaultRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (a, i) in keyVaultAssignments: {
    scope: secrets[i]
    name: guid(secrets[i].id, a.principalId, a.roleDefinitionId)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
      principalId: a.principalId
      principalType: 'ServicePrincipal'
      description: '${a.service}: ${a.role} on secret ${a.scope.secret}'
    }
  }
]

resource cosmosAccount 'Microsoft.DocumentDB/databaseAccounts@2026-03-15' existing = {
  name: cosmosAccountName
}

// Cosmos DB data-plane roles are not Azure RBAC role assignments: they are SQL role assignments
// of the account, naming one of its SQL role definitions (00000000-0000-0000-0000-000000000002 is
// the built-in Data Contributor) and a scope path inside it: /dbs/<database>[/colls/<container>].
resource cosmosRoles 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2026-03-15' = [
  for a in cosmosAssignments: {
    parent: cosmosAccount
    name: guid(cosmosAccount.id, a.principalId, a.roleDefinitionId, a.scope.database, a.scope.?container ?? '')
    properties: {
      roleDefinitionId: '${cosmosAccount.id}/sqlRoleDefinitions/${a.roleDefinitionId}'
      principalId: a.principalId
      scope: '${cosmosAccount.id}/dbs/${a.scope.database}${empty(a.scope.?container ?? '') ? '' : '/colls/${a.scope.?container}'}'
    }
  }
]

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Monitoring Metrics Publisher here lets a service's token ingest telemetry; with the component's
// local auth disabled nothing else can.
resource applicationInsightsRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in applicationInsightsAssignments: {
    scope: applicationInsights
    name: guid(applicationInsights.id, a.principalId, a.roleDefinitionId)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
      principalId: a.principalId
      principalType: 'ServicePrincipal'
      description: '${a.service}: ${a.role} on Application Insights ${applicationInsightsName}'
    }
  }
]
