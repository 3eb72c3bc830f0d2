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

# Asks the declaration (infra/identities.json) through its own loader's CLI, never by grep.
identities_cli() {
  local cli="$repo_root/packages/identities/dist/cli.js"
  [ -f "$cli" ] || { printf 'deploy: %s is not built: run npx pnpm install && npx pnpm build\n' "$cli" >&2; return 1; }
  # This checkout's declaration, named: the CLI's own default is the one next to its package.
  node "$cli" --file "$repo_root/infra/identities.json" "$@"
}

# The services that run as workloads (the declaration's, without optional features), one a line:
# what is built, pushed and given an image version.
service_names() {
  identities_cli services
}

# <service> as the prefix of an environment variable: upper case, - as _ (frontend: FRONTEND).
variable_prefix() {
  printf '%s' "$1" | tr '[:lower:]-' '[:upper:]_'
}

# Every identity of the declaration with its Kubernetes service account, optional features' too,
# one a line: <service> <namespace> <service account>. Read through the loader's package API.
service_accounts() {
  local index="$repo_root/packages/identities/dist/index.js"
  identities_cli check >/dev/null || return 1
  INDEX=$index FILE="$repo_root/infra/identities.json" node --input-type=module -e '
    const { loadIdentities } = await import(process.env.INDEX);
    const { identities } = await loadIdentities(process.env.FILE);
    for (const { service, serviceAccount } of identities)
      console.log(`${service} ${serviceAccount.namespace} ${serviceAccount.name}`);'
}

# The Key Vault secrets the deployment creates (the declaration's resources.keyVault.secrets).
secret_names() {
  identities_cli secrets
}

# The declared secrets that already exist in the vault, comma-separated (EXISTING_SECRETS: the
# template leaves them as they are). Asked through Azure Resource Manager, so it needs no
# data-plane role: the deployer never reads a secret value.
existing_secrets() {
  local group=$1 vault=$2 name found=()
  if [ -n "$group" ] && [ -n "$vault" ]; then
    for name in $(secret_names); do
      az resource show --resource-group "$group" --namespace Microsoft.KeyVault \
        --parent "vaults/$vault" --resource-type secrets --name "$name" \
        --only-show-errors >/dev/null 2>&1 && found+=("$name")
    done
  fi
  (IFS=,; printf '%s\n' "${found[*]}")
}

# "false" when every declared secret exists (writing them again would rotate the keys), else
# "true": the template then writes only those missing from EXISTING_SECRETS.
write_secrets_setting() {
  local existing
  existing=$(existing_secrets "$@")
  if [ "$existing" = "$(secret_names | paste -sd, -)" ] && [ -n "$existing" ]; then echo false; else echo true; fi
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

# Settings an existing deployment fixed at creation, printed as NAME=value lines, so that running
# the templates again over it does not ask for a change Azure refuses: a vault's soft-delete
# retention (7 for vaults created before the 90-day default) and the system pool's VM size
# (4 vCPUs before the apps moved to their own pool). Nothing for a new deployment.
# $1 resource group, $2 vault name, $3 cluster name (either may be empty).
fixed_settings() {
  local group=$1 vault=$2 cluster=$3 days size
  [ -n "$group" ] || return 0
  if [ -n "$vault" ]; then
    days=$(az keyvault show --resource-group "$group" --name "$vault" \
      --query properties.softDeleteRetentionInDays --output tsv 2>/dev/null || true)
    [ -z "$days" ] || printf 'KEY_VAULT_RETENTION_DAYS=%s\n' "$days"
  fi
  if [ -n "$cluster" ]; then
    size=$(az aks nodepool show --resource-group "$group" --cluster-name "$cluster" --name system \
      --query vmSize --output tsv 2>/dev/null || true)
    [ -z "$size" ] || printf 'AKS_NODE_VM_SIZE=%s\n' "$size"
  fi
}

# The deployer's public IPv4 address as a /32: the API server's authorized range
# (AKS_DEPLOYER_IP_RANGE, read by infra/main.bicepparam). Asked of an echo service, so it is the
# address Azure sees, behind any NAT. Fails (prints nothing) when the answer is not an IPv4 address.
deployer_ip_range() {
  local ip
  ip=$(curl --silent --show-error --fail --max-time 10 "${IP_ECHO_URL:-https://api.ipify.org}") || return 1
  [[ $ip =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]] || return 1
  printf '%s/32\n' "$ip"
}

# AKS_DEPLOYER_IP_RANGE for this run: kept when set (even to empty, which opens the API server to
# any address unless AKS_AUTHORIZED_IP_RANGES is set), else detected.
resolve_deployer_ip_range() {
  if [ -n "${AKS_DEPLOYER_IP_RANGE+set}" ]; then
    printf '%s\n' "$AKS_DEPLOYER_IP_RANGE"
  elif ! deployer_ip_range; then
    die 'could not detect your public IP address for the AKS API server'"'"'s authorized ranges; set AKS_DEPLOYER_IP_RANGE=<ip>/32 (or AKS_AUTHORIZED_IP_RANGES)'
  fi
}

# The declaration, read through its loader (@wi/identities), never parsed here: one line per
# fact, tab-separated.
#   api   <service> <app role id> <app role value> <description>
#   call  <caller service> <caller managed identity> <callee service> <app role value>
declaration() {
  identities_cli grants
}

graph=https://graph.microsoft.com/v1.0

# The app registration that protects <service>'s API, created if missing, then set to the
# declaration: its app roles (granted to applications only), access tokens v2, identifier URI
# api://<appId>; and its service principal, which issues tokens only to principals assigned one of
# the roles (appRoleAssignmentRequired). Prints the appId. Idempotent: found by display name.
ensure_api_registration() {
  local service=$1 display="doc-intake-${AZURE_ENV_NAME:-doc-intake}-$service-api" app_id sp_id body
  app_id=$(az ad app list --filter "displayName eq '$display'" --query '[0].appId' --output tsv)
  if [ -z "$app_id" ]; then
    app_id=$(az ad app create --display-name "$display" --sign-in-audience AzureADMyOrg \
      --query appId --output tsv)
    printf '  created app registration %s (%s)\n' "$display" "$app_id" >&2
  fi
  body=$(declaration | SERVICE=$service APP_ID=$app_id node --input-type=module -e '
    import { readFileSync } from "node:fs";
    const roles = readFileSync(0, "utf8").split("\n").map((l) => l.split("\t"))
      .filter(([kind, service]) => kind === "api" && service === process.env.SERVICE)
      .map(([, , id, value, description]) => ({
        id, value, description, displayName: value, allowedMemberTypes: ["Application"], isEnabled: true,
      }));
    process.stdout.write(JSON.stringify({
      identifierUris: [`api://${process.env.APP_ID}`],
      api: { requestedAccessTokenVersion: 2 },
      appRoles: roles,
    }));')
  az rest --method PATCH --uri "$graph/applications(appId='$app_id')" \
    --headers Content-Type=application/json --body "$body" --output none
  sp_id=$(az ad sp list --filter "appId eq '$app_id'" --query '[0].id' --output tsv)
  [ -n "$sp_id" ] || sp_id=$(az ad sp create --id "$app_id" --query id --output tsv)
  az rest --method PATCH --uri "$graph/servicePrincipals/$sp_id" \
    --headers Content-Type=application/json --body '{"appRoleAssignmentRequired":true}' --output none
  # The pipeline's identity, with Graph's Application.ReadWrite.OwnedBy, sees only the
  # registrations it owns: make it an owner (infra/README.md, "Deploy from GitHub").
  if [ -n "${DEPLOY_PRINCIPAL_ID:-}" ] &&
    [ -z "$(az ad app owner list --id "$app_id" --query "[?id=='$DEPLOY_PRINCIPAL_ID'].id" --output tsv)" ]; then
    az ad app owner add --id "$app_id" --owner-object-id "$DEPLOY_PRINCIPAL_ID" --output none
  fi
  printf '%s %s\n' "$app_id" "$sp_id"
}

# Assigns <callee>'s app role to the service principal of each caller the declaration names
# (identities[].calls), unless it already holds it. $1 resource group, $2 callee, $3 its SP id.
grant_api_callers() {
  local group=$1 callee=$2 sp_id=$3 kind caller identity service role role_id principal held
  while IFS=$'\t' read -r kind caller identity service role; do
    [ "$kind" = call ] && [ "$service" = "$callee" ] || continue
    role_id=$(declaration | awk -F'\t' -v s="$callee" -v r="$role" '$1=="api" && $2==s && $4==r {print $3}')
    principal=$(az identity show --resource-group "$group" --name "$identity" --query principalId --output tsv)
    held=$(az rest --method GET --uri "$graph/servicePrincipals/$sp_id/appRoleAssignedTo" \
      --query "length(value[?principalId=='$principal' && appRoleId=='$role_id'])" --output tsv)
    if [ "${held:-0}" = 0 ]; then
      az rest --method POST --uri "$graph/servicePrincipals/$sp_id/appRoleAssignedTo" \
        --headers Content-Type=application/json \
        --body "{\"principalId\":\"$principal\",\"resourceId\":\"$sp_id\",\"appRoleId\":\"$role_id\"}" \
        --output none
      printf '  %s may call %s as %s\n' "$caller" "$callee" "$role" >&2
    fi
  done < <(declaration)
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  "$@"
fi
