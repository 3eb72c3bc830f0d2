// Parameters for `azd up` and scripts/deploy-aks.sh. Both export the environment variables read
// here; every value has a default that deploys a working sample. The two Key Vault secret values
// are deliberately absent: main.bicep generates them at deployment time.
using 'main.bicep'

// azd: the environment name you chose at `azd init` / `azd env new`.
param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'doc-intake')

// azd sets AZURE_PRINCIPAL_ID to the signed-in user; that principal gets Azure Kubernetes Service
// RBAC Cluster Admin so that the deploy step can apply the manifests.
param deployerPrincipalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')
param deployerPrincipalType = readEnvironmentVariable('AZURE_PRINCIPAL_TYPE', 'User')

// Two nodes with 4 vCPUs: room for the system pods, Cilium, and two replicas of each service.
param systemNodeVmSize = readEnvironmentVariable('AKS_NODE_VM_SIZE', 'Standard_D4ds_v5')
param systemNodeCount = int(readEnvironmentVariable('AKS_NODE_COUNT', '2'))

param enableContainerInsights = bool(readEnvironmentVariable('ENABLE_CONTAINER_INSIGHTS', 'false'))
// KEDA add-on + id-keda, for k8s/overlays/aks-keda (scaling the backend on queue depth).
param enableKedaAutoscaling = bool(readEnvironmentVariable('ENABLE_KEDA_AUTOSCALING', 'false'))

// The deploy scripts set WRITE_SECRETS=false when both secrets already exist, so that running
// them again does not rotate the keys.
param writeSecrets = bool(readEnvironmentVariable('WRITE_SECRETS', 'true'))
