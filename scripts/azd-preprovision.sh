#!/bin/sh
# azd preprovision hook (azure.yaml): decides whether this provision writes the Key Vault secrets.
# Writing one creates a new version, i.e. rotates the key; so they are written on the first
# provision, and kept afterwards. `azd env set WRITE_SECRETS true` before `azd provision` rotates.
# azd exports its environment here, including the outputs of the last provision (keyVaultName).
set -eu
here=$(cd "$(dirname "$0")" && pwd)

setting=$(bash "$here/deploy-common.sh" write_secrets_setting "${AZURE_RESOURCE_GROUP:-}" "${keyVaultName:-}")
if [ "${WRITE_SECRETS:-}" = true ] && [ "$setting" = false ]; then
  echo "WRITE_SECRETS=true was set: this provision rotates the Key Vault keys."
  setting=true
fi
echo "==> Key Vault secrets will be written: $setting"
azd env set WRITE_SECRETS "$setting"
