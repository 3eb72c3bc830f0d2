// Parameters for `azd up` and scripts/deploy-aks.sh. Both export the environment variables read
// here; every value has a default that deploys a working sample. The Key Vault secrets' values are
// deliberately absent: main.bicep generates their seed at deployment time.
using 'main.bicep'

// azd: the environment name you chose at `azd init` / `azd env new`.
param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'doc-intake')

// azd sets AZURE_PRINCIPAL_ID to the signed-in user; that principal gets Azure Kubernetes Service
// RBAC Cluster Admin so that the deploy step can apply the manifests.
param deployerPrincipalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')
param deployerPrincipalType = readEnvironmentVariable('AZURE_PRINCIPAL_TYPE', 'User')

// Two system nodes (system pods and add-ons only) and two "apps" nodes for the services, 2 vCPUs
// each. A cluster created before the user pool existed has a 4-vCPU system pool whose size cannot
// change in place: AKS_NODE_VM_SIZE=Standard_D4ds_v5 keeps it.
param systemNodeVmSize = readEnvironmentVariable('AKS_NODE_VM_SIZE', 'Standard_D2ds_v5')
param systemNodeCount = int(readEnvironmentVariable('AKS_NODE_COUNT', '2'))
param userNodeVmSize = readEnvironmentVariable('AKS_USER_NODE_VM_SIZE', 'Standard_D2ds_v5')
param userNodeCount = int(readEnvironmentVariable('AKS_USER_NODE_COUNT', '2'))

// The API server answers only these public ranges: the deployer's address, which the deploy
// scripts and the azd preprovision hook detect into AKS_DEPLOYER_IP_RANGE on every run, plus
// AKS_AUTHORIZED_IP_RANGES (comma-separated CIDRs: a team's, a CI runner's). Both empty: any address.
param apiServerAuthorizedIpRanges = map(
  filter(
    split('${readEnvironmentVariable('AKS_DEPLOYER_IP_RANGE', '')},${readEnvironmentVariable('AKS_AUTHORIZED_IP_RANGES', '')}', ','),
    range => !empty(trim(range))
  ),
  range => trim(range)
)
param privateCluster = bool(readEnvironmentVariable('AKS_PRIVATE_CLUSTER', 'false'))

// One switch for private endpoints, private DNS and public access off (Premium Service Bus and
// registry): see infra/README.md for what it costs and which deploy steps then need the VNet.
param networkIsolation = bool(readEnvironmentVariable('NETWORK_ISOLATION', 'false'))

// 90 days; the deploy scripts and the azd hook pass an existing vault's own (fixed at creation).
param keyVaultRetentionDays = int(readEnvironmentVariable('KEY_VAULT_RETENTION_DAYS', '90'))

param enableContainerInsights = bool(readEnvironmentVariable('ENABLE_CONTAINER_INSIGHTS', 'true'))
param enableAzurePolicy = bool(readEnvironmentVariable('ENABLE_AZURE_POLICY', 'false'))
param enableDefender = bool(readEnvironmentVariable('ENABLE_DEFENDER', 'false'))
param enableEncryptionAtHost = bool(readEnvironmentVariable('ENABLE_ENCRYPTION_AT_HOST', 'false'))

// owner/name: creates id-deploy, federated with that repository's "production" environment. Not
// GITHUB_REPOSITORY, which every GitHub Actions job has: the pipeline itself must not redeploy
// its own identity and roles (its RBAC Administrator may not assign Contributor, by design).
param githubRepository = readEnvironmentVariable('DEPLOY_IDENTITY_REPOSITORY', '')
// [keda] begin
// KEDA add-on + id-keda, for k8s/overlays/aks-keda (docs/keda.md).
param enableKedaAutoscaling = bool(readEnvironmentVariable('ENABLE_KEDA_AUTOSCALING', 'false'))
// [keda] end

// The deploy scripts set WRITE_SECRETS=false when every declared secret already exists, so that
// running them again does not rotate the keys, and EXISTING_SECRETS to those that exist, so that a
// newly declared secret is created without rotating the others.
param writeSecrets = bool(readEnvironmentVariable('WRITE_SECRETS', 'true'))
param existingSecrets = filter(
  map(split(readEnvironmentVariable('EXISTING_SECRETS', ''), ','), name => trim(name)),
  name => !empty(name)
)
