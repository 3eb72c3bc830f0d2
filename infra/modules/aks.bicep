// The AKS cluster: the OIDC issuer whose tokens Entra ID trusts, the workload identity webhook
// that projects those tokens into pods, and Entra ID (not certificates) for people and tools.

import { resourceTags } from 'types.bicep'

@description('Cluster name; also its DNS prefix.')
param name string

@description('Azure region of the cluster.')
param location string

@description('Tags for every resource.')
param tags resourceTags

@description('Kubernetes version; empty takes the region\'s default version.')
param kubernetesVersion string

@description('VM size of the system node pool (system pods only: it is tainted CriticalAddonsOnly).')
param systemNodeVmSize string

@description('Node count of the system node pool.')
@minValue(1)
param systemNodeCount int

@description('VM size of the user node pool "apps", which runs the two services.')
param userNodeVmSize string

@description('Node count of the user node pool.')
@minValue(1)
param userNodeCount int

@description('Public IP ranges (CIDR) allowed to reach the API server; empty allows any. Ignored for a private cluster.')
param apiServerAuthorizedIpRanges string[]

@description('API server on a private IP in the VNet only (kubectl through `az aks command invoke` or a machine in the VNet).')
param privateCluster bool

@description('VNet the templates create (network.bicep, networkIsolation) whose subnet aks-nodes the pools join; empty lets AKS manage its own VNet.')
param nodeVnetName string

@description('Log Analytics workspace of the diagnostic setting (and of Defender\'s sensor).')
param logAnalyticsWorkspaceId string

@description('Azure Policy add-on (Gatekeeper): audits or denies pods against the policies assigned to the cluster\'s scope.')
param enableAzurePolicy bool

@description('Defender for Containers sensor on the nodes; the subscription\'s Containers plan must be on to be billed and to report.')
param enableDefender bool

@description('Encryption at host for both pools (temp disks and caches); the subscription needs the EncryptionAtHost feature registered.')
param enableEncryptionAtHost bool

@description('Registry the kubelet pulls the service images from.')
param registryName string

@description('Log Analytics workspace (monitoring.bicep) for Container Insights; empty turns the add-on off.')
param containerInsightsWorkspaceName string

@description('Its data collection rule (monitoring.bicep), associated with the cluster.')
param containerInsightsRuleName string

@description('Object id of whoever deploys the manifests (azd sets AZURE_PRINCIPAL_ID); empty grants nothing.')
param deployerPrincipalId string

@description('Principal type of the deployer.')
@allowed(['User', 'Group', 'ServicePrincipal'])
param deployerPrincipalType string

@description('Installs the KEDA add-on (docs/keda.md).') // [keda]
param enableKeda bool = false // [keda]

var containerInsights = !empty(containerInsightsWorkspaceName)
var ownVnet = !empty(nodeVnetName)
var nodeSubnetId = ownVnet ? resourceId('Microsoft.Network/virtualNetworks/subnets', nodeVnetName, 'aks-nodes') : ''

var roles = {
  // Joins the node subnet and manages the load balancer's frontends in it: what a cluster in a
  // VNet it did not create needs (https://learn.microsoft.com/azure/aks/configure-azure-cni#prerequisites).
  networkContributor: '4d97b98b-1d4f-4787-a291-c67834d212e7'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
  // Kubernetes data actions on every namespace. With local accounts disabled, Azure RBAC is the
  // only way into the API server, and Owner of the resource group carries no Kubernetes data actions.
  aksRbacClusterAdmin: 'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b'
}

// In a VNet of ours the control plane needs Network Contributor on the node subnet before it
// exists, which a system-assigned identity cannot have: it gets a user-assigned one.
resource controlPlaneIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = if (ownVnet) {
  name: 'id-${name}-control-plane'
  location: location
  tags: tags
}

resource nodeSubnet 'Microsoft.Network/virtualNetworks/subnets@2025-05-01' existing = if (ownVnet) {
  name: '${nodeVnetName}/aks-nodes'
}

resource controlPlaneSubnetRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (ownVnet) {
  scope: nodeSubnet
  name: guid(nodeSubnetId, name, roles.networkContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.networkContributor)
    principalId: controlPlaneIdentity!.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'AKS control plane joins the node subnet'
  }
}

resource cluster 'Microsoft.ContainerService/managedClusters@2026-08-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Base'
    tier: 'Free'
  }
  // The control plane's own identity (load balancers, disks). Workloads never use it.
  identity: ownVnet
    ? {
        type: 'UserAssigned'
        userAssignedIdentities: {
          '${controlPlaneIdentity.id}': {}
        }
      }
    : {
        type: 'SystemAssigned'
      }
  dependsOn: [controlPlaneSubnetRole]
  properties: {
    dnsPrefix: name
    kubernetesVersion: empty(kubernetesVersion) ? null : kubernetesVersion
    enableRBAC: true
    // The issuer publishes /.well-known/openid-configuration and the JWKS that Entra ID uses to
    // verify service-account tokens; its URL is what every federated credential names.
    oidcIssuerProfile: {
      enabled: true
    }
    securityProfile: {
      // The mutating webhook: for pods labelled azure.workload.identity/use=true it projects a
      // token for audience api://AzureADTokenExchange and sets AZURE_CLIENT_ID (from the service
      // account annotation), AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST.
      workloadIdentity: {
        enabled: true
      }
      // Defender for Containers' sensor (runtime threat detection), reporting to the workspace.
      defender: enableDefender
        ? {
            logAnalyticsWorkspaceResourceId: logAnalyticsWorkspaceId
            securityMonitoring: {
              enabled: true
            }
          }
        : null
    }
    // Who may reach the API server. By default (the deploy scripts and azd) the deployer's public
    // IP only, detected at deployment; a private cluster has no public endpoint at all.
    apiServerAccessProfile: {
      enablePrivateCluster: privateCluster
      authorizedIPRanges: privateCluster ? [] : apiServerAuthorizedIpRanges
    }
    // Managed Entra integration with Azure RBAC for Kubernetes authorization, and no local
    // (certificate) accounts: `az aks get-credentials --admin` is refused, every kubectl call is an
    // Entra identity checked against Azure role assignments.
    aadProfile: {
      managed: true
      enableAzureRBAC: true
      tenantID: tenant().tenantId
    }
    disableLocalAccounts: true
    networkProfile: {
      // Azure CNI overlay: pods get addresses from a private overlay range, not from the VNet.
      networkPlugin: 'azure'
      networkPluginMode: 'overlay'
      // Cilium (eBPF) as dataplane and network policy engine: the overlay's default-deny
      // NetworkPolicies are enforced.
      networkDataplane: 'cilium'
      networkPolicy: 'cilium'
      podCidr: '10.244.0.0/16'
      serviceCidr: '10.0.0.0/16'
      dnsServiceIP: '10.0.0.10'
      loadBalancerSku: 'standard'
      outboundType: 'loadBalancer'
    }
    // System pods on their own pool (tainted CriticalAddonsOnly, which only system pods and the
    // add-ons tolerate), the apps on "apps": a busy or compromised app pod does not share a node
    // with CoreDNS, Cilium's operator or konnectivity.
    agentPoolProfiles: [
      {
        name: 'system'
        mode: 'System'
        count: systemNodeCount
        vmSize: systemNodeVmSize
        osType: 'Linux'
        osSKU: 'AzureLinux'
        type: 'VirtualMachineScaleSets'
        maxPods: 110
        vnetSubnetID: ownVnet ? nodeSubnetId : null
        enableEncryptionAtHost: enableEncryptionAtHost
        nodeTaints: ['CriticalAddonsOnly=true:NoSchedule']
        upgradeSettings: {
          maxSurge: '33%'
        }
      }
      {
        name: 'apps'
        mode: 'User'
        count: userNodeCount
        vmSize: userNodeVmSize
        osType: 'Linux'
        osSKU: 'AzureLinux'
        type: 'VirtualMachineScaleSets'
        maxPods: 110
        vnetSubnetID: ownVnet ? nodeSubnetId : null
        enableEncryptionAtHost: enableEncryptionAtHost
        upgradeSettings: {
          maxSurge: '33%'
        }
      }
    ]
    // The application routing add-on (managed NGINX): serves the frontend's Ingress, class
    // webapprouting.kubernetes.azure.com, from the namespace app-routing-system.
    ingressProfile: {
      webAppRouting: {
        enabled: true
      }
    }
    // [keda] begin
    // The KEDA add-on: its operator runs as kube-system/keda-operator, which id-keda trusts.
    workloadAutoScalerProfile: {
      keda: {
        enabled: enableKeda
      }
    }
    // [keda] end
    autoUpgradeProfile: {
      upgradeChannel: 'patch'
      nodeOSUpgradeChannel: 'NodeImage'
    }
    addonProfiles: union(
      {
        // The Secrets Store CSI driver with the Key Vault provider: how the application routing
        // add-on fetches the Ingress certificate from Key Vault (with its own identity).
        azureKeyvaultSecretsProvider: {
          enabled: true
          config: {
            enableSecretRotation: 'true'
            rotationPollInterval: '2m'
          }
        }
        azurepolicy: {
          enabled: enableAzurePolicy
        }
      },
      !containerInsights
        ? {}
        : {
            // Container Insights, sending with the add-on's managed identity (useAADAuth) because
            // the workspace has local (shared key) auth disabled.
            omsagent: {
              enabled: true
              config: {
                logAnalyticsWorkspaceResourceID: workspace.id
                useAADAuth: 'true'
              }
            }
          }
    )
  }
}

resource registry 'Microsoft.ContainerRegistry/registries@2025-11-01' existing = {
  name: registryName
}

// The kubelet identity (created by AKS in the node resource group) pulls images: AcrPull on this
// registry only, so no imagePullSecret exists anywhere.
resource kubeletAcrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: registry
  name: guid(registry.id, cluster.id, roles.acrPull)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: cluster.properties.identityProfile.kubeletidentity.objectId
    principalType: 'ServicePrincipal'
    description: 'AKS kubelet pulls the service images'
  }
}

resource deployerClusterAdmin 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  scope: cluster
  name: guid(cluster.id, deployerPrincipalId, roles.aksRbacClusterAdmin)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.aksRbacClusterAdmin)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
    description: 'Deployer applies the manifests (Namespace, ServiceAccounts, ...) with kubectl'
  }
}

// Ties the monitoring add-on on this cluster to its data collection rule (streams, destination).
resource workspace 'Microsoft.OperationalInsights/workspaces@2026-03-01' existing = if (containerInsights) {
  name: containerInsightsWorkspaceName
}

resource containerInsightsRule 'Microsoft.Insights/dataCollectionRules@2024-03-11' existing = if (containerInsights) {
  name: containerInsightsRuleName
}

resource containerInsightsAssociation 'Microsoft.Insights/dataCollectionRuleAssociations@2024-03-11' = if (containerInsights) {
  scope: cluster
  name: 'ContainerInsightsExtension'
  properties: {
    dataCollectionRuleId: containerInsightsRule.id
    description: 'Container Insights for this cluster'
  }
}

// The API server's audit of every write and of each read of a Secret or ConfigMap (kube-audit-admin:
// kube-audit less the get/list noise), and guard: Entra ID and Azure RBAC decisions on kubectl.
#disable-next-line use-recent-api-versions // the newest version; the only GA one (2016-09-01) predates category groups
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: cluster
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    // Resource-specific tables (AKSAudit, AKSAuditAdmin, AKSControlPlane): cheaper to query.
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      { category: 'kube-audit-admin', enabled: true }
      { category: 'guard', enabled: true }
    ]
  }
}

@description('Object id of the application routing add-on\'s identity: it reads the Ingress certificate from Key Vault.')
output webAppRoutingPrincipalId string = cluster.properties.ingressProfile.webAppRouting.identity.objectId

@description('Cluster name, for az aks get-credentials.')
output name string = cluster.name

@description('OIDC issuer URL: the `iss` of every service-account token, and the issuer of every federated credential.')
output oidcIssuerUrl string = cluster.properties.oidcIssuerProfile.issuerURL
