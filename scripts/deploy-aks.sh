#!/usr/bin/env bash
# Everything `azd up` does, with the Azure CLI and kubectl only: provisions infra/main.bicep into
# a resource group, then deploys the services (scripts/deploy-app.sh). Safe to run again: the
# deployment is incremental, the Key Vault keys are kept once they exist, the manifests are applied.
#
#   az login
#   scripts/deploy-aks.sh [resource-group] [location]
#
# Environment (all optional):
#   AZURE_RESOURCE_GROUP       default rg-doc-intake (or the first argument)
#   AZURE_LOCATION             default swedencentral (or the second argument); must offer AKS,
#                              Cosmos DB serverless and federated credentials
#   AZURE_ENV_NAME             default doc-intake: names the cluster, seeds the unique names
#   ENABLE_CONTAINER_INSIGHTS  true adds Container Insights (the workspace is always there: it holds
#                              Application Insights)
#   ENABLE_KEDA_AUTOSCALING    true adds the KEDA add-on and id-keda, and deploys       # [keda]
#                              k8s/overlays/aks-keda instead of k8s/overlays/aks         # [keda]
#   WRITE_SECRETS              true rotates every Key Vault key (default: create the missing ones)
#   AKS_DEPLOYER_IP_RANGE      the API server's authorized range for you (default: your public IP,
#                              detected, as /32); AKS_AUTHORIZED_IP_RANGES adds comma-separated CIDRs
#   AKS_PRIVATE_CLUSTER        true: no public API server (then run deploy-app.sh from the VNet)
#   NETWORK_ISOLATION          true: private endpoints, public access off (see infra/README.md)
#   DEPLOY_IDENTITY_REPOSITORY owner/name: creates id-deploy for .github/workflows/deploy.yml
#   PROVISION_ONLY             true: provision, then stop (the workflow deploys the app separately)
#   IMAGE_TAG, IMAGE_BUILDER, FIC_WAIT_SECONDS: see scripts/deploy-app.sh
set -euo pipefail
. "$(dirname "$0")/deploy-common.sh"

export AZURE_RESOURCE_GROUP=${1:-${AZURE_RESOURCE_GROUP:-rg-doc-intake}}
export AZURE_LOCATION=${2:-${AZURE_LOCATION:-swedencentral}}
export AZURE_ENV_NAME=${AZURE_ENV_NAME:-doc-intake}
need az 'Install the Azure CLI: https://aka.ms/install-azure-cli'

say 'Checking the Azure CLI sign-in'
az account show --query '{subscription:name, id:id, tenant:tenantId, user:user.name}' --output table \
  || die 'run `az login` (and `az account set --subscription ...`) first'

# infra/main.bicepparam reads these: whoever runs this gets cluster admin through Azure RBAC, since
# the cluster has no local accounts.
# A pipeline names its own (AZURE_PRINCIPAL_ID: a managed identity cannot look itself up in Graph).
if [ -z "${AZURE_PRINCIPAL_ID:-}" ]; then
  read -r AZURE_PRINCIPAL_ID AZURE_PRINCIPAL_TYPE < <(deployer_principal)
fi
export AZURE_PRINCIPAL_ID AZURE_PRINCIPAL_TYPE=${AZURE_PRINCIPAL_TYPE:-User}
printf '  deployer %s (%s)\n' "$AZURE_PRINCIPAL_ID" "$AZURE_PRINCIPAL_TYPE" >&2

# The API server answers only the deployer's address (and AKS_AUTHORIZED_IP_RANGES): detected on
# every run, since the address a laptop or a CI runner leaves from changes.
AKS_DEPLOYER_IP_RANGE=$(resolve_deployer_ip_range)
export AKS_DEPLOYER_IP_RANGE
printf '  API server authorized ranges: %s\n' "${AKS_DEPLOYER_IP_RANGE:-none}${AKS_AUTHORIZED_IP_RANGES:+,$AKS_AUTHORIZED_IP_RANGES}" >&2

say "Resource group $AZURE_RESOURCE_GROUP in $AZURE_LOCATION"
run az group create --name "$AZURE_RESOURCE_GROUP" --location "$AZURE_LOCATION" \
  --tags "azd-env-name=$AZURE_ENV_NAME" --only-show-errors --output none

vault=''
cluster_name=''
if az deployment group show --resource-group "$AZURE_RESOURCE_GROUP" --name main --output none 2>/dev/null; then
  vault=$(deployment_output "$AZURE_RESOURCE_GROUP" main keyVaultName 2>/dev/null || true)
  cluster_name=$(deployment_output "$AZURE_RESOURCE_GROUP" main aksClusterName 2>/dev/null || true)
fi

# Writing a secret creates a new version, i.e. rotates the key; keep the keys that exist, and
# create only the declared secrets that are missing (a newly declared one rotates no other).
# WRITE_SECRETS=true rotates them all.
if [ -z "${WRITE_SECRETS:-}" ]; then
  WRITE_SECRETS=$(write_secrets_setting "$AZURE_RESOURCE_GROUP" "$vault")
  EXISTING_SECRETS=$(existing_secrets "$AZURE_RESOURCE_GROUP" "$vault")
else
  EXISTING_SECRETS=''
fi
export WRITE_SECRETS EXISTING_SECRETS
printf '  write Key Vault secrets: %s%s\n' "$WRITE_SECRETS" "${EXISTING_SECRETS:+ (keeping $EXISTING_SECRETS)}" >&2

# What the existing deployment fixed at creation wins over the defaults (unless set explicitly).
while IFS='=' read -r name value; do
  [ -n "$name" ] && [ -z "${!name:-}" ] || continue
  export "$name=$value"
  printf '  kept from the existing deployment: %s=%s\n' "$name" "$value" >&2
done < <(fixed_settings "$AZURE_RESOURCE_GROUP" "$vault" "$cluster_name")

say 'Provisioning infra/main.bicep (about 10 minutes the first time: the cluster)'
run az deployment group create --resource-group "$AZURE_RESOURCE_GROUP" --name main \
  --parameters "$repo_root/infra/main.bicepparam" --only-show-errors --output none

# PROVISION_ONLY=true stops here: the GitHub workflow signs in afresh before deploying the app,
# because az cannot renew a federated sign-in once GitHub's token (10 minutes) has expired
# (Azure/azure-cli#28708) and the cluster alone takes longer than that.
if [ "${PROVISION_ONLY:-false}" = true ]; then
  say 'Provisioned; the app is deployed by scripts/deploy-app.sh (DEPLOYMENT_NAME=main)'
  exit 0
fi

DEPLOYMENT_NAME=main exec "$repo_root/scripts/deploy-app.sh"
