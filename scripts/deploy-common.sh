#!/usr/bin/env bash
# Helpers shared by scripts/deploy-aks.sh, scripts/deploy-app.sh and the azd hooks. Source it from
# bash; or run `scripts/deploy-common.sh <function> [args]` (the azd hooks do, from sh).

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf '\n==> %s\n' "$*" >&2; }
# Prints a command, then runs it: the log shows exactly what was done.
run() {
  printf '  $ %s\n' "$*" >&2
  "$@"
}
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed. $2"; }

# The latest successful deployment of infra/main.bicep in a resource group: the one with the
# oidcIssuerUrl output (the modules' nested deployments have other outputs). azd names its
# deployments <env>-<timestamp>; scripts/deploy-aks.sh names its deployment "main".
latest_deployment() {
  az deployment group list --resource-group "$1" \
    --query "sort_by([?properties.provisioningState=='Succeeded' && properties.outputs.oidcIssuerUrl], &properties.timestamp)[-1].name" \
    --output tsv 2>/dev/null
}

# One output of a deployment.
deployment_output() {
  az deployment group show --resource-group "$1" --name "$2" \
    --query "properties.outputs.$3.value" --output tsv
}

# The Key Vault secrets the identities file grants (its keyVault scopes).
secret_names() {
  grep -o '"secret": *"[^"]*"' "$repo_root/infra/identities.json" | sed 's/.*"\([^"]*\)"$/\1/' | sort -u
}

# Succeeds when every secret already exists in the vault. Asked through Azure Resource Manager, so
# it needs no data-plane role: the deployer never reads a secret value.
secrets_exist() {
  local group=$1 vault=$2 name
  [ -n "$group" ] && [ -n "$vault" ] || return 1
  for name in $(secret_names); do
    az resource show --resource-group "$group" --namespace Microsoft.KeyVault \
      --parent "vaults/$vault" --resource-type secrets --name "$name" \
      --only-show-errors >/dev/null 2>&1 || return 1
  done
}

# "false" when the secrets exist (writing them again would rotate both keys), else "true".
write_secrets_setting() {
  if secrets_exist "$@"; then echo false; else echo true; fi
}

# Object id and type of whoever az is signed in as: it gets cluster-admin through Azure RBAC.
deployer_principal() {
  local type
  type=$(az account show --query user.type --output tsv)
  if [ "$type" = servicePrincipal ]; then
    printf '%s ServicePrincipal\n' "$(az ad sp show --id "$(az account show --query user.name --output tsv)" --query id --output tsv)"
  else
    printf '%s User\n' "$(az ad signed-in-user show --query id --output tsv)"
  fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  "$@"
fi
