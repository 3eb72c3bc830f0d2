// One private endpoint: a NIC in the endpoint subnet that reaches one sub-resource (group id) of a
// data plane over Private Link, and its DNS zone group, which writes the A record of the resource's
// privatelink name into the zone linked to the VNet. Pods then resolve the public host name (say
// kv-x.vault.azure.net, a CNAME to kv-x.privatelink.vaultcore.azure.net) to the private address.

import { resourceTags } from 'types.bicep'

@description('Endpoint name.')
param name string

@description('Azure region of the endpoint (the VNet\'s).')
param location string

@description('Tags for every resource.')
param tags resourceTags

@description('Resource the endpoint connects to.')
param targetResourceId string

@description('Its sub-resource: vault, blob, Sql, namespace or registry.')
param groupId string

@description('Subnet the endpoint\'s NIC is placed in.')
param subnetId string

@description('Private DNS zone of that sub-resource.')
param privateDnsZoneId string

resource endpoint 'Microsoft.Network/privateEndpoints@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: { id: subnetId }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: targetResourceId
          groupIds: [groupId]
        }
      }
    ]
  }
}

resource zoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2025-05-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: groupId
        properties: { privateDnsZoneId: privateDnsZoneId }
      }
    ]
  }
}
