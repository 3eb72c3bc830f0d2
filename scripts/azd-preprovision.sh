#!/bin/sh
# azd preprovision hook (azure.yaml): decides whether this provision writes the Key Vault secrets.
# Writing one creates a new version, i.e. rotates the key; so each is written when it is missing
# (the first provision, or a secret declared since), and kept afterwards. `azd env set
# WRITE_SECRETS true` before `azd provision` rotates them all.
# azd exports its environment here, including the outputs of the last provision (keyVaultName).
set -eu
here=$(cd "$(dirname "$0")" && pwd)

setting=$(bash "$here/deploy-common.sh" write_secrets_setting "${AZURE_RESOURCE_GROUP:-}" "${keyVaultName:-}")
existing=$(bash "$here/deploy-common.sh" existing_secrets "${AZURE_RESOURCE_GROUP:-}" "${keyVaultName:-}")
if [ "${WRITE_SECRETS:-}" = true ] && [ "$setting" = false ]; then
  echo "WRITE_SECRETS=true was set: this provision rotates the Key Vault keys."
  setting=true
  existing=''
fi
# The declared secrets that exist are kept; only missing ones are created (a new one rotates none).
echo "==> Key Vault secrets will be written: $setting${existing:+ (keeping $existing)}"
azd env set WRITE_SECRETS "$setting"
azd env set EXISTING_SECRETS "$existing"

# What the existing deployment fixed at creation (the vault's retention, the system pool's VM
# size) wins over the templates' defaults, unless set in the environment.
bash "$here/deploy-common.sh" fixed_settings "${AZURE_RESOURCE_GROUP:-}" "${keyVaultName:-}" "${aksClusterName:-}" |
  while IFS='=' read -r name value; do
    eval "current=\${$name:-}"
    if [ -n "$name" ] && [ -z "$current" ]; then
      echo "==> kept from the existing deployment: $name=$value"
      azd env set "$name" "$value"
    fi
  done

# The AKS API server's authorized range: this machine's public address, detected on every
# provision (a laptop's address changes); AKS_AUTHORIZED_IP_RANGES (azd env set) adds more.
if [ -z "${AKS_DEPLOYER_IP_RANGE_FIXED:-}" ]; then
  range=$(bash "$here/deploy-common.sh" deployer_ip_range) || {
    echo "error: could not detect your public IP address; azd env set AKS_DEPLOYER_IP_RANGE_FIXED true and AKS_DEPLOYER_IP_RANGE <ip>/32" >&2
    exit 1
  }
  echo "==> AKS API server authorized for $range${AKS_AUTHORIZED_IP_RANGES:+,$AKS_AUTHORIZED_IP_RANGES}"
  azd env set AKS_DEPLOYER_IP_RANGE "$range"
fi
