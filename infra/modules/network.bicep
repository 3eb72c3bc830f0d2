// Network isolation (networkIsolation=true): a virtual network for the cluster's nodes and the
// data planes' private endpoints, and one private DNS zone per data plane linked to it, so that
// <name>.vault.azure.net and the others resolve to private addresses inside the VNet while their
// public endpoints refuse every request (publicNetworkAccess Disabled). Only created when isolated:
// the default deployment lets AKS manage its own VNet, which is free and needs no planning.
//
// Address plan: nodes 10.224.0.0/16 (Azure CNI overlay: pods take 10.244.0.0/16 from the overlay,
// not from here), private endpoints 10.225.0.0/24. Neither overlaps the cluster's service CIDR
// 10.0.0.0/16. k8s/base/network-policies/allow-azure.yaml allows exactly the endpoint subnet.

import { resourceTags, privateDnsZoneIds } from 'types.bicep'

@description('Virtual network name.')
param name string

@description('Azure region of the network.')
param location string

@description('Tags for every resource.')
param tags resourceTags

// The zone names of the public cloud, from
// https://learn.microsoft.com/azure/private-link/private-endpoint-dns (Databases: Cosmos DB SQL;
// Integration: Service Bus; Security: Key Vault; Storage: Blob; Containers: Container Registry).
var zoneNames = [
  'privatelink.vaultcore.azure.net'
  'privatelink.blob.${environment().suffixes.storage}'
  'privatelink.documents.azure.com'
  'privatelink.servicebus.windows.net'
  'privatelink.azurecr.io'
]

// Outbound from the node subnet is the load balancer's (outboundType loadBalancer); the group
// exists so that Defender and the flow logs of a production network have something to attach to,
// and holds no rule beyond Azure's defaults.
resource nodesNsg 'Microsoft.Network/networkSecurityGroups@2025-05-01' = {
  name: '${name}-nodes-nsg'
  location: location
  tags: tags
}

resource endpointsNsg 'Microsoft.Network/networkSecurityGroups@2025-05-01' = {
  name: '${name}-endpoints-nsg'
  location: location
  tags: tags
}

resource vnet 'Microsoft.Network/virtualNetworks@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: ['10.224.0.0/15']
    }
    subnets: [
      {
        name: 'aks-nodes'
        properties: {
          addressPrefix: '10.224.0.0/16'
          networkSecurityGroup: { id: nodesNsg.id }
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: '10.225.0.0/24'
          networkSecurityGroup: { id: endpointsNsg.id }
          // NSG rules apply to private endpoints only with this set.
          privateEndpointNetworkPolicies: 'Enabled'
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for zone in zoneNames: {
    name: zone
    location: 'global'
    tags: tags
  }
]

resource links 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (zone, i) in zoneNames: {
    parent: zones[i]
    name: '${name}-link'
    location: 'global'
    tags: tags
    properties: {
      virtualNetwork: { id: vnet.id }
      registrationEnabled: false
    }
  }
]

@description('Subnet of the cluster\'s node pools.')
output nodeSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'aks-nodes')

@description('Subnet of the private endpoints.')
output endpointSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'private-endpoints')

@description('Virtual network id (the control plane identity joins its node subnet).')
output id string = vnet.id

@description('Private DNS zone id per data plane.')
output zoneIds privateDnsZoneIds = {
  keyVault: zones[0].id
  blob: zones[1].id
  cosmos: zones[2].id
  serviceBus: zones[3].id
  registry: zones[4].id
}
