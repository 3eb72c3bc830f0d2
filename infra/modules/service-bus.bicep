// Service Bus namespace with Entra ID only (no SAS keys) and every queue the declaration lists
// (identities.json resources.serviceBus.queues): peek-lock with the declared lock duration,
// redelivery up to the declared maxDeliveryCount, then the dead-letter queue, which also receives
// expired messages.

import { declaredQueue, resourceTags } from 'types.bicep'

@description('Namespace name: globally unique, 6-50 characters.')
@minLength(6)
@maxLength(50)
param name string

@description('Azure region of the namespace.')
param location string

@description('Tags for every resource.')
param tags resourceTags

@description('Public network access off (networkIsolation): reachable only through its private endpoint.')
param isolated bool

@description('Log Analytics workspace of the diagnostic setting.')
param logAnalyticsWorkspaceId string

@description('The declared queues with their settings (resources.serviceBus.queues).')
param queues declaredQueue[]

resource namespace 'Microsoft.ServiceBus/namespaces@2026-01-01' = {
  name: name
  location: location
  tags: tags
  // Standard: Basic has no duplicate detection or transactions, which a forked app may want.
  // Isolated: Premium, the only tier with private endpoints (one messaging unit).
  sku: isolated
    ? {
        name: 'Premium'
        tier: 'Premium'
        capacity: 1
      }
    : {
        name: 'Standard'
        tier: 'Standard'
      }
  properties: {
    // SAS keys (RootManageSharedAccessKey and any other) are rejected: Entra tokens only.
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: isolated ? 'Disabled' : 'Enabled'
  }
}

resource queueResources 'Microsoft.ServiceBus/namespaces/queues@2026-01-01' = [
  for queue in queues: {
    parent: namespace
    name: queue.name
    properties: {
      // ISO 8601, as Service Bus writes it back: whole minutes as PTnM, anything else in seconds.
      lockDuration: queue.lockDurationSeconds % 60 == 0
        ? 'PT${queue.lockDurationSeconds / 60}M'
        : 'PT${queue.lockDurationSeconds}S'
      maxDeliveryCount: queue.maxDeliveryCount
      deadLetteringOnMessageExpiration: true
      defaultMessageTimeToLive: 'P14D'
      maxSizeInMegabytes: 1024
      requiresSession: false
      requiresDuplicateDetection: false
      enablePartitioning: false
    }
  }
]

// Operational logs (entity management), and on Premium runtime audit and network filtering logs.
#disable-next-line use-recent-api-versions // the newest version; the only GA one (2016-09-01) predates category groups
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: namespace
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
  }
}

@description('Namespace id, for its private endpoint.')
output id string = namespace.id

// serviceBusEndpoint is https://<name>.servicebus.windows.net:443/; the SDK wants the bare host,
// taken from the endpoint rather than typed, so other clouds work too.
@description('Fully qualified namespace (<name>.servicebus.windows.net): AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE.')
output fullyQualifiedNamespace string = split(split(namespace.properties.serviceBusEndpoint, '://')[1], ':')[0]

@description('The queue names, once created (in the declared order).')
output queueNames string[] = [for (queue, i) in queues: queueResources[i].name]
