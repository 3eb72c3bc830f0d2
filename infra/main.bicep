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

@description('VM size of the single (system) node pool.')
param systemNodeVmSize string = 'Standard_D4ds_v5'

@description('Nodes in the system pool: two, so a node upgrade never takes both replicas of a service down.')
@minValue(1)
@maxValue(10)
param systemNodeCount int = 2

@description('Object id of the person or pipeline that runs kubectl (azd passes AZURE_PRINCIPAL_ID); gets Azure Kubernetes Service RBAC Cluster Admin. Empty: grant it yourself.')
param deployerPrincipalId string = ''

@description('Principal type of deployerPrincipalId.')
@allowed(['User', 'Group', 'ServicePrincipal'])
param deployerPrincipalType string = 'User'

@description('Adds Container Insights (the AKS monitoring add-on, with Entra ID ingestion) to the Log Analytics workspace.')
param enableContainerInsights bool = false

@description('Installs the AKS KEDA add-on and creates id-keda (the identity of identities.json with feature "keda"), which KEDA reads the documents queue\'s length with, so that k8s/overlays/aks-keda can scale the backend on queue depth.')
param enableKedaAutoscaling bool = false

@description('Writes the Key Vault secrets. Every write is a new version, i.e. a rotation; the deploy scripts pass false once the secrets exist.')
param writeSecrets bool = true

// The two application keys. ARM evaluates newGuid() when the deployment runs, and Bicep allows it
// only as a parameter default: each value is 244 random bits (two version-4 GUIDs) that never
// appear in the repository or the compiled template, and as @secure() parameters never in the
// deployment history. A key derived from guid()/uniqueString() would be computable by anyone who
// knows the resource group id, so it would be no secret.
@description('Value of the frontend-session-key secret (signs session and CSRF cookies). Leave unset: generated.')
@secure()
param frontendSessionKey string = replace('${newGuid()}${newGuid()}', '-', '')

@description('Value of the backend-signing-key secret (HMAC of document records). Leave unset: generated.')
@secure()
param backendSigningKey string = replace('${newGuid()}${newGuid()}', '-', '')

// The single source of identities, service accounts, federated credentials and roles. Typed, so a
// malformed file fails `bicep build`.
var identitiesConfig identitiesFile = loadJsonContent('identities.json')

// An identity with a "feature" exists only where that feature is on: id-keda (feature "keda") is
// federated with KEDA's own ServiceAccount, kube-system/keda-operator of the AKS add-on, and holds
// Azure Service Bus Data Owner on the documents queue. That is the narrowest built-in role that
// works: KEDA's azure-servicebus scaler reads the queue's active message count with the Service
// Bus administration client (GetQueueRuntimeProperties, pkg/scalers/azure_servicebus_scaler.go in
// https://github.com/kedacore/keda), an entity management read that needs the Manage right
// ("Service Bus Shared Access Policy needs to be of type Manage",
// https://keda.sh/docs/latest/scalers/azure-service-bus/). Of the built-in data roles only Data
// Owner (Microsoft.ServiceBus/*) carries it; Data Sender and Data Receiver hold send/receive
// only (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/integration).
// Microsoft's KEDA add-on guide assigns the same role
// (https://learn.microsoft.com/azure/aks/keda-workload-identity), there on the whole namespace.
var features = {
  always: true // an identity without a feature
  keda: enableKedaAutoscaling
}
var workloadIdentityList = filter(
  identitiesConfig.identities,
  identity => features[identity.?feature ?? 'always']
)

// Names the services expect (their defaults in services/*/README.md, and packages/local-azure's
// LOCAL_RESOURCES for the local cloud).
var uploadsContainerName = 'uploads'
var documentsQueueName = 'documents'
var cosmosDatabaseName = 'intake'
var cosmosContainerName = 'documents'

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

module registry 'modules/registry.bicep' = {
  name: 'registry'
  params: {
    name: names.registry
    location: location
    tags: tags
  }
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
    registryName: names.registry
    containerInsightsWorkspaceName: enableContainerInsights ? names.workspace : ''
    containerInsightsRuleName: names.containerInsightsRule
    deployerPrincipalId: deployerPrincipalId
    deployerPrincipalType: deployerPrincipalType
    enableKeda: enableKedaAutoscaling
  }
  dependsOn: [registry, monitoring]
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
    secretValues: {
      'frontend-session-key': frontendSessionKey
      'backend-signing-key': backendSigningKey
    }
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: tags
    uploadsContainerName: uploadsContainerName
  }
}

module serviceBus 'modules/service-bus.bicep' = {
  name: 'service-bus'
  params: {
    name: names.serviceBus
    location: location
    tags: tags
    queueName: documentsQueueName
    maxDeliveryCount: 5
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    name: names.cosmos
    location: location
    tags: tags
    databaseName: cosmosDatabaseName
    containerName: cosmosContainerName
    partitionKeyPath: '/id'
  }
}

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

@description('Client id of id-keda (empty unless enableKedaAutoscaling): the identityId of the TriggerAuthentication KEDA reads the documents queue\'s length with; goes to k8s/overlays/aks-keda/keda.env.')
output kedaClientId string = enableKedaAutoscaling
  ? filter(created, identity => identity.service == 'keda')[0].clientId
  : ''

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

@description('UPLOADS_CONTAINER.')
output uploadsContainer string = storage.outputs.uploadsContainerName

@description('DOCUMENTS_QUEUE.')
output documentsQueue string = serviceBus.outputs.queueName

@description('COSMOS_DATABASE.')
output cosmosDatabase string = cosmos.outputs.databaseName

@description('COSMOS_CONTAINER.')
output cosmosContainer string = cosmos.outputs.containerName

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
