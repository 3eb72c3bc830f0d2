// The shape of infra/identities.json, as Bicep types. main.bicep loads the file into a variable
// of type `identitiesFile`, so `bicep build` refuses a file whose shape the templates cannot use
// (a misspelt scope kind, a missing role id) before anything reaches Azure. The JSON Schema next to
// the file (identities.schema.json) says the same for editors and for the local cloud, and
// test/infra/declaration-types.test.ts fails when the two disagree on any property.

@export()
@discriminator('resource')
@description('Where a role applies: one blob container, one queue, one secret, one Cosmos DB database (or container), or the Application Insights component.')
type roleScope = storageScope | serviceBusScope | keyVaultScope | cosmosScope | applicationInsightsScope

@export()
type storageScope = {
  resource: 'storage'
  @minLength(3)
  container: string
}

@export()
type serviceBusScope = {
  resource: 'serviceBus'
  queue: string
}

@export()
type keyVaultScope = {
  resource: 'keyVault'
  secret: string
}

@export()
type cosmosScope = {
  resource: 'cosmos'
  database: string
  @description('Optional: narrows a Cosmos DB data-plane role from the database to one container.')
  container: string?
}

@export()
@description('The deployment\'s one Application Insights component: telemetry ingestion (Monitoring Metrics Publisher) has no narrower scope.')
type applicationInsightsScope = {
  resource: 'applicationInsights'
}

@export()
type roleAssignment = {
  @description('Display name of the built-in role; documentation only, the id is what Azure uses.')
  role: string
  @description('Built-in role definition GUID (Azure RBAC), or the Cosmos DB SQL role definition GUID for cosmos scopes.')
  roleDefinitionId: string
  scope: roleScope
}

@export()
type federatedCredential = {
  name: string
  @description('"aks-oidc-issuer" means the issuer URL of the cluster this template creates; any other value is used as is.')
  issuer: string
  @description('system:serviceaccount:<namespace>:<name>: the `sub` claim of the projected service-account token.')
  subject: string
  audiences: string[]
}

@export()
type serviceIdentity = {
  service: string
  managedIdentityName: string
  @description('Optional: the identity exists only where this feature is on (main.bicep\'s features).')
  feature: string?
  serviceAccount: {
    namespace: string
    name: string
  }
  federatedCredential: federatedCredential
  roleAssignments: roleAssignment[]
  @description('Optional: this service exposes an API protected by an Entra app registration with these app roles.')
  api: {
    appRoles: appRole[]
  }?
  @description('Optional: other services\' APIs this identity may call, each with the app role it is granted.')
  calls: apiCall[]?
  @description('Optional: the resources this service names, by the environment variable that carries each name.')
  uses: {
    *: usedResource
  }?
}

@export()
@discriminator('resource')
@description('A resource a service names: a blob container, a queue, a secret, a Cosmos DB database or container.')
type usedResource = storageScope | serviceBusScope | keyVaultScope | usedCosmosDatabase | usedCosmosContainer

@export()
type usedCosmosDatabase = {
  resource: 'cosmosDatabase'
  database: string
}

@export()
type usedCosmosContainer = {
  resource: 'cosmosContainer'
  database: string
  container: string
}

@export()
@description('The data-plane resources the deployment creates: every role scope and every used name is one of them.')
type declaredResources = {
  keyVault: {
    @description('The vault\'s name in the local cloud; in Azure the template derives a globally unique one.')
    localName: string
    secrets: string[]
  }
  storage: {
    containers: string[]
  }
  serviceBus: {
    queues: declaredQueue[]
  }
  cosmos: {
    databases: declaredCosmosDatabase[]
  }
}

@export()
@description('A queue and the settings it is created with (service-bus.bicep).')
type declaredQueue = {
  name: string
  @description('Deliveries before a message is dead-lettered.')
  maxDeliveryCount: int
  @description('Peek-lock duration; a receiver renews the lock while it works on a message.')
  lockDurationSeconds: int
}

@export()
@description('A Cosmos DB database and its containers (cosmos.bicep).')
type declaredCosmosDatabase = {
  name: string
  containers: {
    name: string
    partitionKeyPath: string
  }[]
}

@export()
type appRole = {
  value: string
  id: string
  description: string
}

@export()
type apiCall = {
  service: string
  appRole: string
}

@export()
@description('A deploy identity: a GitHub Actions workflow signs in as it (azure/login, OIDC), not a Kubernetes workload.')
type deployIdentity = {
  name: string
  managedIdentityName: string
  federatedCredential: {
    name: string
    issuer: 'https://token.actions.githubusercontent.com'
    @description('owner/name, or "github-repository" for the githubRepository parameter.')
    repository: string
    @description('The GitHub environment of the deploy job: the token\'s sub is repo:<owner>/<name>:environment:<environment>.')
    environment: string
    audiences: string[]
  }
  roleAssignments: deployRoleAssignment[]
}

@export()
type deployRoleAssignment = {
  role: string
  roleDefinitionId: string
  scope: {
    resource: 'resourceGroup'
  }
  @description('Role Based Access Control Administrator only: it may assign and remove only the roles these templates assign.')
  condition: 'declared-roles-only'?
}

@export()
type identitiesFile = {
  '$schema': string?
  namespace: string
  resources: declaredResources
  identities: serviceIdentity[]
  deployIdentities: deployIdentity[]?
}

@export()
@description('Resource tags: string values only.')
type resourceTags = {
  *: string
}

@export()
@description('A managed identity as created in Azure: what role assignments and outputs need.')
type createdIdentity = {
  service: string
  clientId: string
  principalId: string
}

@export()
@description('The private DNS zone of each data plane\'s private endpoints (network.bicep).')
type privateDnsZoneIds = {
  keyVault: string
  blob: string
  cosmos: string
  serviceBus: string
  registry: string
}
