// Azure Container Registry for the two service images. Pulls come from the cluster's kubelet
// identity (AcrPull, granted in aks.bicep); nobody gets a registry password.

import { resourceTags } from 'types.bicep'

@description('Registry name: globally unique, 5-50 alphanumerics.')
@minLength(5)
@maxLength(50)
param name string

@description('Azure region of the registry.')
param location string

@description('Tags for every resource.')
param tags resourceTags

@description('Public network access off (networkIsolation): reachable only through its private endpoint.')
param isolated bool

@description('Log Analytics workspace of the diagnostic setting.')
param logAnalyticsWorkspaceId string

resource registry 'Microsoft.ContainerRegistry/registries@2025-11-01' = {
  name: name
  location: location
  tags: tags
  // Basic is enough for a sample. Isolated: Premium, the only tier with private endpoints.
  sku: {
    name: isolated ? 'Premium' : 'Basic'
  }
  properties: {
    // The admin user is the registry's local (key) account: off, Entra ID only. (Anonymous pull
    // does not exist on Basic.)
    adminUserEnabled: false
    // Isolated: pulls reach the registry over its private endpoint only. ACR Tasks (`az acr build`)
    // cannot reach a registry without public access, so an isolated deployment builds its images
    // on a machine inside the VNet (IMAGE_BUILDER=docker), see infra/README.md.
    publicNetworkAccess: isolated ? 'Disabled' : 'Enabled'
    networkRuleBypassOptions: isolated ? 'None' : 'AzureServices'
  }
}


// Logins and repository events (push, pull, delete): who pulled which image.
#disable-next-line use-recent-api-versions // the newest version; the only GA one (2016-09-01) predates category groups
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: registry
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
  }
}

@description('Registry id, for its private endpoint.')
output id string = registry.id

@description('Resource name, for role assignments and `az acr build`.')
output name string = registry.name

@description('Login server (<name>.azurecr.io): the image prefix in the Kustomize overlay.')
output loginServer string = registry.properties.loginServer
