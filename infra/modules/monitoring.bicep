// Optional Container Insights: a Log Analytics workspace that accepts only Entra ID
// (managed identity) ingestion, and the data collection rule the AKS monitoring add-on sends with.
// The rule is associated with the cluster in aks.bicep, once the cluster exists.

import { resourceTags } from 'types.bicep'

@description('Workspace name.')
param workspaceName string

@description('Name of the Container Insights data collection rule.')
param ruleName string

@description('Azure region of the workspace and the rule.')
param location string

@description('Tags for every resource.')
param tags resourceTags

resource workspace 'Microsoft.OperationalInsights/workspaces@2026-03-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
    features: {
      // No shared-key ingestion or queries: agents and people authenticate with Entra ID.
      disableLocalAuth: true
    }
  }
}

var streams = ['Microsoft-ContainerInsights-Group-Default']

resource containerInsightsRule 'Microsoft.Insights/dataCollectionRules@2024-03-11' = {
  name: ruleName
  location: location
  tags: tags
  kind: 'Linux'
  properties: {
    dataSources: {
      extensions: [
        {
          name: 'ContainerInsightsExtension'
          extensionName: 'ContainerInsights'
          streams: streams
          extensionSettings: {
            dataCollectionSettings: {
              interval: '1m'
              namespaceFilteringMode: 'Off'
              enableContainerLogV2: true
            }
          }
        }
      ]
    }
    destinations: {
      logAnalytics: [
        {
          name: 'workspace'
          workspaceResourceId: workspace.id
        }
      ]
    }
    dataFlows: [
      {
        streams: streams
        destinations: ['workspace']
      }
    ]
  }
}
