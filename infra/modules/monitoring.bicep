// Telemetry, with Entra ID (no key) on every path in: a Log Analytics workspace, the
// workspace-based Application Insights component the services export traces and metrics to, and
// optionally (ENABLE_CONTAINER_INSIGHTS=true) the data collection rule the AKS monitoring add-on
// sends with. The rule is associated with the cluster in aks.bicep, once the cluster exists.

import { resourceTags } from 'types.bicep'

@description('Workspace name.')
param workspaceName string

@description('Application Insights component name.')
param applicationInsightsName string

@description('Name of the Container Insights data collection rule; empty creates none.')
param containerInsightsRuleName string

@description('Azure region of the workspace, the component and the rule.')
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

// Workspace-based: the telemetry lands in the workspace above (one retention, one access model).
resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    // Ingestion only with an Entra token of a principal holding Monitoring Metrics Publisher on
    // this component (identities.json gives it to id-frontend and id-backend): the instrumentation
    // key in the connection string then authorizes nothing.
    // https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication
    DisableLocalAuth: true
  }
}

var containerInsights = !empty(containerInsightsRuleName)
var streams = ['Microsoft-ContainerInsights-Group-Default']

resource containerInsightsRule 'Microsoft.Insights/dataCollectionRules@2024-03-11' = if (containerInsights) {
  name: containerInsightsRuleName
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

// Where the exporters send (APPLICATIONINSIGHTS_CONNECTION_STRING of both services, through
// k8s/overlays/aks). Not a secret: an instrumentation key and endpoints, which with
// DisableLocalAuth admit only Entra-authenticated telemetry. The one connection string the
// templates may output (test/infra/no-keys.test.ts holds every other to zero).
@description('Application Insights connection setting: where telemetry goes, not a credential.')
output applicationInsightsConnectionString string = applicationInsights.properties.ConnectionString
