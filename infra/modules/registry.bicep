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

resource registry 'Microsoft.ContainerRegistry/registries@2025-11-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    // Basic is enough for a sample; Premium would add private endpoints and geo-replication.
    name: 'Basic'
  }
  properties: {
    // The admin user is the registry's local (key) account: off, Entra ID only. (Anonymous pull
    // does not exist on Basic.)
    adminUserEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

@description('Resource name, for role assignments and `az acr build`.')
output name string = registry.name

@description('Login server (<name>.azurecr.io): the image prefix in the Kustomize overlay.')
output loginServer string = registry.properties.loginServer
