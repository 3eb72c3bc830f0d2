// Everything the document-intake app needs in Azure, in one resource group: the AKS cluster with
// its OIDC issuer, one managed identity per service federated with that service's Kubernetes
// service account, and the four data services with local (key) auth disabled and each role
// assigned at the narrowest scope. infra/README.md tells the story; identities.json says who may
// do what.
//
// Resource-group scope (not subscription): the deployer needs rights on one resource group only
// (Owner, or Contributor + Role Based Access Control Administrator), `az deployment group what-if`
// previews it, and deleting the group removes everything.
targetScope = 'resourceGroup'

import { identitiesFile } from 'modules/types.bicep'

@description('Environment name (azd: AZURE_ENV_NAME): names the cluster and seeds the globally unique names.')
@minLength(1)
@maxLength(32)
param environmentName string

@description('Azure region for every resource; defaults to the resource group\'s.')
param location string = resourceGroup().location

@description('Kubernetes version of the cluster; empty takes the region\'s default.')
param kubernetesVersion string = ''

@description('VM size of the system node pool (system pods and add-ons only). A pool\'s VM size cannot change in place: a cluster created with another size keeps it (set AKS_NODE_VM_SIZE to it).')
param systemNodeVmSize string = 'Standard_D2ds_v5'

@description('Nodes in the system pool: two, so a node upgrade never takes CoreDNS down.')
@minValue(1)
@maxValue(10)
param systemNodeCount int = 2

@description('VM size of the user node pool "apps", which runs the services.')
param userNodeVmSize string = 'Standard_D2ds_v5'

@description('Nodes in the user pool: two, so a node upgrade never takes both replicas of a service down.')
@minValue(1)
@maxValue(10)
param userNodeCount int = 2

// Network posture. One switch, off by default: the learning deployment keeps public endpoints
// (each still refusing anything but an Entra token with a role) and costs what the README says.
@description('Private endpoints and private DNS zones for Key Vault, Storage (blob), Cosmos DB, Service Bus (Premium) and the registry (Premium), public network access disabled on each, the cluster in a VNet of these templates. Costs more: see infra/README.md.')
param networkIsolation bool = false

@description('Public IP ranges (CIDR) that may reach the AKS API server. The deploy scripts and azd pass the deployer\'s IP (AKS_AUTHORIZED_IP_RANGES adds more); empty allows any address.')
param apiServerAuthorizedIpRanges string[] = []

@description('Private API server: no public endpoint; kubectl runs through `az aks command invoke` (the deploy scripts do) or from the VNet.')
param privateCluster bool = false

@description('Azure Policy add-on: assign policies (for example the AKS pod security baseline initiative) to the cluster\'s scope.')
param enableAzurePolicy bool = false

@description('Defender for Containers sensor; turn the subscription\'s Containers plan on too (az security pricing create -n Containers --tier standard).')
param enableDefender bool = false

@description('Encryption at host for the node pools; needs `az feature register --namespace Microsoft.Compute --name EncryptionAtHost` once per subscription.')
param enableEncryptionAtHost bool = false

@description('Days a deleted vault or secret stays recoverable: 90, the longest. Fixed when the vault is created; the deploy scripts pass an existing vault\'s value (KEY_VAULT_RETENTION_DAYS).')
@minValue(7)
@maxValue(90)
param keyVaultRetentionDays int = 90

@description('Days a deleted blob, blob version or container stays recoverable.')
@minValue(1)
@maxValue(365)
param blobDeleteRetentionDays int = 14

@description('owner/name of the GitHub repository whose deploy workflow signs in as id-deploy (identities.json deployIdentities; azd env DEPLOY_IDENTITY_REPOSITORY). Empty creates none, and leaves an existing one as it is (incremental deployment): the pipeline runs without it.')
param githubRepository string = ''

@description('Name of the Ingress TLS certificate in Key Vault (the deploy scripts create a self-signed one when it is missing); the application routing add-on may read it and nothing else.')
param ingressCertificateName string = 'ingress-tls'

@description('Object id of the person or pipeline that runs kubectl (azd passes AZURE_PRINCIPAL_ID); gets Azure Kubernetes Service RBAC Cluster Admin. Empty: grant it yourself.')
param deployerPrincipalId string = ''

@description('Principal type of deployerPrincipalId.')
@allowed(['User', 'Group', 'ServicePrincipal'])
param deployerPrincipalType string = 'User'

@description('Container Insights (the AKS monitoring add-on, with Entra ID ingestion) into the Log Analytics workspace: on by default, as the benchmark asks (LT-1); its ingestion is most of the workspace\'s cost.')
param enableContainerInsights bool = true

@description('KEDA scaling the backend on queue depth: the AKS add-on and id-keda (docs/keda.md).') // [keda]
param enableKedaAutoscaling bool = false // [keda]

@description('Writes the Key Vault secrets (those not in existingSecrets). Every write is a new version, i.e. a rotation; the deploy scripts pass false once every declared secret exists.')
param writeSecrets bool = true

@description('Declared secrets that already exist in the vault: left as they are, so that declaring a new secret creates it without rotating the others. The deploy scripts pass the names they find.')
param existingSecrets string[] = []

// The seed of every Key Vault secret's value (key-vault.bicep derives one value per declared
// secret from it and the secret's name). ARM evaluates newGuid() when the deployment runs, and
// Bicep allows it only as a parameter default: the seed is 244 random bits (two version-4 GUIDs)
// that never appear in the repository or the compiled template, and as a @secure() parameter never
// in the deployment history. A value derived from guid()/uniqueString() of known inputs alone
// would be computable by anyone who knows the resource group id, so it would be no secret.
@description('Seed of the Key Vault secrets\' values. Leave unset: generated at each deployment that writes secrets.')
@secure()
param secretSeed string = '${newGuid()}${newGuid()}'

// The single source of services, resources, identities, service accounts, federated credentials
// and roles. Typed, so a malformed file fails `bicep build`.
var identitiesConfig identitiesFile = loadJsonContent('identities.json')

// An identity with a "feature" exists only where that feature is on (its parameter below). A
// feature this map does not name fails the deployment instead of leaving the identity out.
var features = {
  always: true // an identity without a feature
  keda: enableKedaAutoscaling // [keda]
}
var workloadIdentityList = filter(
  identitiesConfig.identities,
  identity => features[identity.?feature ?? 'always']
)

// The resources every module below creates: exactly those the declaration lists.
var declared = identitiesConfig.resources

// The name each environment variable of a service's `uses` carries, for the overlay's outputs.
var usedNames = reduce(
  flatten(map(identitiesConfig.identities, identity => items(identity.?uses ?? {}))),
  {},
  (names, used) => union(names, { '${used.key}': used.value })
)

// Globally unique names get a suffix that is stable per resource group and environment, so a
// second deployment updates rather than duplicates. Names are decided here, once, and handed to the
// module that creates a resource and to the modules that point at it: known before the deployment
// starts, they let `what-if` predict the role assignments instead of giving up on them.
var suffix = uniqueString(subscription().id, resourceGroup().id, environmentName)
var clusterName = 'aks-${environmentName}'
var names = {
  cluster: clusterName
  registry: 'acr${suffix}'
  workspace: 'log-${suffix}'
  applicationInsights: 'appi-${suffix}'
  containerInsightsRule: 'MSCI-${location}-${clusterName}'
  keyVault: 'kv-${suffix}'
  storage: 'st${suffix}'
  serviceBus: 'sb-${suffix}'
  cosmos: 'cosmos-${suffix}'
  vnet: 'vnet-${environmentName}'
}
var tags = {
  'azd-env-name': environmentName
  app: 'doc-intake'
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: names.workspace
    applicationInsightsName: names.applicationInsights
    containerInsightsRuleName: enableContainerInsights ? names.containerInsightsRule : ''
    location: location
    tags: tags
  }
}

// Every diagnostic setting sends to the one workspace (Application Insights' too).
var workspaceId = resourceId('Microsoft.OperationalInsights/workspaces', names.workspace)

module network 'modules/network.bicep' = if (networkIsolation) {
  name: 'network'
  params: {
    name: names.vnet
    location: location
    tags: tags
  }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  params: {
    name: names.registry
    location: location
    tags: tags
    isolated: networkIsolation
    logAnalyticsWorkspaceId: workspaceId
  }
  dependsOn: [monitoring]
}

module aks 'modules/aks.bicep' = {
  name: 'aks'
  params: {
    name: names.cluster
    location: location
    tags: tags
    kubernetesVersion: kubernetesVersion
    systemNodeVmSize: systemNodeVmSize
    systemNodeCount: systemNodeCount
    userNodeVmSize: userNodeVmSize
    userNodeCount: userNodeCount
    apiServerAuthorizedIpRanges: apiServerAuthorizedIpRanges
    privateCluster: privateCluster
    nodeVnetName: networkIsolation ? names.vnet : ''
    logAnalyticsWorkspaceId: workspaceId
    enableAzurePolicy: enableAzurePolicy
    enableDefender: enableDefender
    enableEncryptionAtHost: enableEncryptionAtHost
    registryName: names.registry
    containerInsightsWorkspaceName: enableContainerInsights ? names.workspace : ''
    containerInsightsRuleName: names.containerInsightsRule
    deployerPrincipalId: deployerPrincipalId
    deployerPrincipalType: deployerPrincipalType
    enableKeda: enableKedaAutoscaling // [keda]
  }
  dependsOn: [registry, monitoring, network]
}

module workloadIdentities 'modules/workload-identities.bicep' = {
  name: 'workload-identities'
  params: {
    location: location
    identities: workloadIdentityList
    oidcIssuerUrl: aks.outputs.oidcIssuerUrl
    tags: tags
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  params: {
    name: names.keyVault
    location: location
    tags: tags
    writeSecrets: writeSecrets
    isolated: networkIsolation
    logAnalyticsWorkspaceId: workspaceId
    deployerPrincipalId: deployerPrincipalId
    deployerPrincipalType: deployerPrincipalType
    softDeleteRetentionDays: keyVaultRetentionDays
    secretNames: declared.keyVault.secrets
    secretSeed: secretSeed
    existingSecrets: existingSecrets
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: tags
    containerNames: declared.storage.containers
    isolated: networkIsolation
    logAnalyticsWorkspaceId: workspaceId
    deleteRetentionDays: blobDeleteRetentionDays
  }
  dependsOn: [monitoring]
}

module serviceBus 'modules/service-bus.bicep' = {
  name: 'service-bus'
  params: {
    name: names.serviceBus
    location: location
    tags: tags
    queues: declared.serviceBus.queues
    isolated: networkIsolation
    logAnalyticsWorkspaceId: workspaceId
  }
  dependsOn: [monitoring]
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    name: names.cosmos
    location: location
    tags: tags
    databases: declared.cosmos.databases
    isolated: networkIsolation
    logAnalyticsWorkspaceId: workspaceId
  }
  dependsOn: [monitoring]
}

// One private endpoint per data plane (networkIsolation), in the VNet's endpoint subnet, each
// registered in its private DNS zone.
var privateEndpoints = [
  {
    name: 'pe-${names.keyVault}'
    target: resourceId('Microsoft.KeyVault/vaults', names.keyVault)
    groupId: 'vault'
    zone: 'keyVault'
  }
  {
    name: 'pe-${names.storage}-blob'
    target: resourceId('Microsoft.Storage/storageAccounts', names.storage)
    groupId: 'blob'
    zone: 'blob'
  }
  {
    name: 'pe-${names.cosmos}'
    target: resourceId('Microsoft.DocumentDB/databaseAccounts', names.cosmos)
    groupId: 'Sql'
    zone: 'cosmos'
  }
  {
    name: 'pe-${names.serviceBus}'
    target: resourceId('Microsoft.ServiceBus/namespaces', names.serviceBus)
    groupId: 'namespace'
    zone: 'serviceBus'
  }
  {
    name: 'pe-${names.registry}'
    target: resourceId('Microsoft.ContainerRegistry/registries', names.registry)
    groupId: 'registry'
    zone: 'registry'
  }
]

module endpoints 'modules/private-endpoint.bicep' = [
  for endpoint in privateEndpoints: if (networkIsolation) {
    name: endpoint.name
    params: {
      name: endpoint.name
      location: location
      tags: tags
      targetResourceId: endpoint.target
      groupId: endpoint.groupId
      subnetId: network!.outputs.endpointSubnetId
      privateDnsZoneId: network!.outputs.zoneIds[endpoint.zone]
    }
    dependsOn: [keyVault, storage, cosmos, serviceBus, registry]
  }
]

// The deploy identity of a GitHub workflow (identities.json deployIdentities), when the repository
// is named. Its RBAC Administrator role may hand out exactly the roles below: those of every
// identity in the file (Azure RBAC ones; Cosmos DB's are the account's own) and the templates' own.
var templateRoleIds = [
  '7f951dda-4ed3-4680-a7ca-43fe172d538d' // AcrPull: the kubelet identity (aks.bicep)
  'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b' // Azure Kubernetes Service RBAC Cluster Admin: the deployer (aks.bicep)
  '4d97b98b-1d4f-4787-a291-c67834d212e7' // Network Contributor: the control plane on its subnet (aks.bicep)
  '4633458b-17de-408a-b874-0445c86b69e6' // Key Vault Secrets User: the add-on on the Ingress certificate (scripts/deploy-app.sh)
  'a4417e6f-fecd-4de8-b567-7b0420556985' // Key Vault Certificates Officer: the deployer (key-vault.bicep)
]
var declaredRoleIds = map(
  filter(flatten(map(identitiesConfig.identities, identity => identity.roleAssignments)), a => a.scope.resource != 'cosmos'),
  a => a.roleDefinitionId
)
var deployIdentityList = filter(
  identitiesConfig.?deployIdentities ?? [],
  identity => identity.federatedCredential.repository != 'github-repository' || !empty(githubRepository)
)

module deployIdentities 'modules/deploy-identity.bicep' = [
  for identity in deployIdentityList: {
    name: 'deploy-identity-${identity.name}'
    params: {
      location: location
      identity: identity
      githubRepository: githubRepository
      assignableRoleIds: union(declaredRoleIds, templateRoleIds)
      tags: tags
    }
  }
]

module workloadRoles 'modules/workload-role-assignments.bicep' = {
  name: 'workload-role-assignments'
  params: {
    identities: workloadIdentityList
    createdIdentities: workloadIdentities.outputs.identities
    storageAccountName: names.storage
    serviceBusNamespaceName: names.serviceBus
    keyVaultName: names.keyVault
    cosmosAccountName: names.cosmos
    applicationInsightsName: names.applicationInsights
  }
  // Each scope (container, queue, secret, database, component) exists before its role assignment
  // is written.
  dependsOn: [storage, serviceBus, keyVault, cosmos, monitoring]
}

// Outputs: the Kustomize overlay's inputs (k8s/overlays/aks/.env, written by the deploy scripts
// under exactly these names), plus what the scripts need to reach the cluster and registry.
var created = workloadIdentities.outputs.identities

@description('Client id of id-frontend: the azure.workload.identity/client-id annotation of the frontend service account.')
output frontendClientId string = filter(created, identity => identity.service == 'frontend')[0].clientId

@description('Client id of id-backend: the azure.workload.identity/client-id annotation of the backend service account.')
output backendClientId string = filter(created, identity => identity.service == 'backend')[0].clientId

// [keda] begin
@description('Client id of id-keda (empty unless enableKedaAutoscaling): the TriggerAuthentication\'s identityId; goes to k8s/overlays/aks-keda/keda.env.')
output kedaClientId string = enableKedaAutoscaling
  ? filter(created, identity => identity.service == 'keda')[0].clientId
  : ''
// [keda] end

@description('Client id of each workload identity this deployment created, by service (those of an optional feature only where it is on): what scripts/deploy-app.sh and scripts/write-aks-env.sh iterate.')
output workloadClientIds { *: string } = toObject(created, identity => identity.service, identity => identity.clientId)

@description('Entra tenant of the identities.')
output tenantId string = tenant().tenantId

@description('AZURE_KEYVAULT_URL.')
output keyVaultUrl string = keyVault.outputs.uri

@description('AZURE_STORAGE_BLOB_ENDPOINT.')
output storageBlobEndpoint string = storage.outputs.blobEndpoint

@description('AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE.')
output serviceBusFullyQualifiedNamespace string = serviceBus.outputs.fullyQualifiedNamespace

@description('AZURE_COSMOS_ENDPOINT.')
output cosmosEndpoint string = cosmos.outputs.endpoint

@description('Registry login server: prefix of the doc-intake-frontend and doc-intake-backend images.')
output acrLoginServer string = registry.outputs.loginServer

@description('The cluster\'s OIDC issuer URL, as every federated credential names it.')
output oidcIssuerUrl string = aks.outputs.oidcIssuerUrl

@description('UPLOADS_CONTAINER: the container the declaration\'s services name under that variable.')
output uploadsContainer string = usedNames.UPLOADS_CONTAINER.container

@description('DOCUMENTS_QUEUE.')
output documentsQueue string = usedNames.DOCUMENTS_QUEUE.queue

@description('COSMOS_DATABASE.')
output cosmosDatabase string = usedNames.COSMOS_DATABASE.database

@description('COSMOS_CONTAINER.')
output cosmosContainer string = usedNames.COSMOS_CONTAINER.container

@description('Kubernetes namespace of both services.')
output namespace string = identitiesConfig.namespace

@description('APPLICATIONINSIGHTS_CONNECTION_STRING of both services: where they export telemetry to (an instrumentation key and endpoints, no credential: the component accepts Entra tokens only).')
output applicationInsightsConnectionString string = monitoring.outputs.applicationInsightsConnectionString

@description('Cluster name, for az aks get-credentials.')
output aksClusterName string = aks.outputs.name

@description('Registry name, for az acr build / az acr login.')
output acrName string = registry.outputs.name

@description('Key Vault name, for checking which secrets exist before the next deployment.')
output keyVaultName string = keyVault.outputs.name

@description('Client id of the GitHub deploy identity (AZURE_CLIENT_ID of the workflow\'s environment; not a secret); empty without githubRepository.')
output deployClientId string = empty(deployIdentityList) ? '' : deployIdentities[0].outputs.clientId

@description('Principal id of the GitHub deploy identity; empty without githubRepository.')
output deployPrincipalId string = empty(deployIdentityList) ? '' : deployIdentities[0].outputs.principalId

@description('Object id of the application routing add-on\'s identity: scripts/deploy-app.sh grants it Key Vault Secrets User on the Ingress certificate.')
output webAppRoutingPrincipalId string = aks.outputs.webAppRoutingPrincipalId

@description('Name of the Ingress TLS certificate in Key Vault.')
output ingressCertificateName string = ingressCertificateName

@description('True when the API server has no public endpoint: kubectl runs from the VNet or through `az aks command invoke`.')
output privateCluster bool = privateCluster

@description('True when the data planes answer their private endpoints only: image builds and the Ingress certificate run from the VNet.')
output networkIsolation bool = networkIsolation
