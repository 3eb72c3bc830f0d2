#!/usr/bin/env bash
# Stand-in for az, kubectl, kubelogin and curl (installed under those names on PATH by
# test/infra/deploy-scripts.test.ts): logs each call to $FAKE_LOG and answers like a first
# deployment would. $FAKE_STATE holds what "Azure" and the cluster remember between runs.
set -euo pipefail
tool=$(basename "$0")
printf '%s %s\n' "$tool" "$*" >>"$FAKE_LOG"
args=" $* "

# [keda] begin
# id-keda exists, and kedaClientId is set, only when the deployment ran with the option on (the
# environment variable that infra/main.bicepparam reads).
keda_client_id() {
  if [ -f "$FAKE_STATE/keda" ]; then echo 33333333-aaaa-4bbb-8ccc-000000000003; fi
}
keda_outputs_json() {
  printf '  "kedaClientId": { "type": "String", "value": "%s" },\n' "$(keda_client_id)"
}
# [keda] end

# The services of the sandbox's declaration, asked of its CLI as the scripts do: the deployment
# created an identity for each (client id ...0001, ...0002, ... in the declared order). Asked once
# per content of the file (a node start-up costs more than the rest of a call).
declared_services() {
  local file answer
  file="$(dirname "$FAKE_STATE")/infra/identities.json"
  answer="$FAKE_STATE/services-$(sha256sum "$file" | cut -d' ' -f1)"
  if [ ! -f "$answer" ]; then
    node "$(dirname "$FAKE_STATE")/packages/identities/dist/cli.js" services --file "$file" >"$answer.$$"
    mv "$answer.$$" "$answer"
  fi
  cat "$answer"
}
workload_client_ids_json() {
  local i=0 service ids=''
  while read -r service; do
    i=$((i + 1))
    ids+="\"$service\": \"11111111-aaaa-4bbb-8ccc-$(printf '%012d' "$i")\", "
  done < <(declared_services)
  if [ -n "$(keda_client_id)" ]; then ids+="\"keda\": \"$(keda_client_id)\", "; fi # [keda]
  printf '{ %s}' "${ids%, }"
}
# A digest per image: sha256 of its name, so every service's differs.
image_digest() {
  printf 'sha256:%s\n' "$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)"
}

outputs_json() {
  echo '{'
  printf '  "workloadClientIds": { "type": "Object", "value": %s },\n' "$(workload_client_ids_json)"
  keda_outputs_json # [keda]
  cat <<JSON
  "applicationInsightsConnectionString": { "type": "String", "value": "InstrumentationKey=44444444-aaaa-4bbb-8ccc-000000000004;IngestionEndpoint=https://swedencentral-0.in.applicationinsights.azure.com/" },
  "tenantId": { "type": "String", "value": "99999999-8888-7777-6666-555555555555" },
  "frontendClientId": { "type": "String", "value": "11111111-aaaa-4bbb-8ccc-000000000001" },
  "backendClientId": { "type": "String", "value": "11111111-aaaa-4bbb-8ccc-000000000002" },
  "acrLoginServer": { "type": "String", "value": "acrtest.azurecr.io" },
  "keyVaultUrl": { "type": "String", "value": "https://kv-test.vault.azure.net/" },
  "storageBlobEndpoint": { "type": "String", "value": "https://sttest.blob.core.windows.net/" },
  "serviceBusFullyQualifiedNamespace": { "type": "String", "value": "sb-test.servicebus.windows.net" },
  "cosmosEndpoint": { "type": "String", "value": "https://cosmos-test.documents.azure.com:443/" },
  "oidcIssuerUrl": { "type": "String", "value": "https://swedencentral.oic.prod-aks.azure.com/t/c/" },
  "uploadsContainer": { "type": "String", "value": "uploads" },
  "documentsQueue": { "type": "String", "value": "documents" },
  "cosmosDatabase": { "type": "String", "value": "intake" },
  "cosmosContainer": { "type": "String", "value": "documents" },
  "namespace": { "type": "String", "value": "doc-intake" }
}
JSON
}

case "$tool" in
  az)
    case "$args" in
      *' account show --query user.type '*) echo user ;;
      *' account show '*) echo 'fake subscription' ;;
      *' ad signed-in-user show '*) echo deployer-object-id ;;
      *' deployment group create '*)
        touch "$FAKE_STATE/deployed"
        env | grep -E '^(AKS_|NETWORK_ISOLATION|DEPLOY_IDENTITY|KEY_VAULT_)' >"$FAKE_STATE/provision-env" || true
        if [ "${ENABLE_KEDA_AUTOSCALING:-}" = true ]; then touch "$FAKE_STATE/keda"; else rm -f "$FAKE_STATE/keda"; fi # [keda]
        ;;
      *' deployment group list '*) [ -f "$FAKE_STATE/deployed" ] && echo main ;;
      *' deployment group show '*'--output none'*) [ -f "$FAKE_STATE/deployed" ] ;;
      *'keyVaultName.value'*) echo kv-test ;;
      *'outputs.aksClusterName.value --output'*) echo aks-doc-intake ;;
      # A vault and a cluster created before the 90-day retention and the user pool.
      *' keyvault show '*'softDeleteRetentionInDays'*) [ -f "$FAKE_STATE/old-vault" ] && echo 7 || echo 90 ;;
      *' aks nodepool show '*'--name system '*) [ -f "$FAKE_STATE/old-vault" ] && echo Standard_D4ds_v5 || echo Standard_D2ds_v5 ;;
      *'privateCluster.value'*) if [ -f "$FAKE_STATE/private" ]; then echo true; else echo false; fi ;;
      *'networkIsolation.value'*) if [ -f "$FAKE_STATE/isolated" ]; then echo true; else echo false; fi ;;
      *'deployPrincipalId.value'*) echo '' ;;
      *'ingressCertificateName.value'*) echo ingress-tls ;;
      *'webAppRoutingPrincipalId.value'*) echo 55555555-aaaa-4bbb-8ccc-000000000005 ;;
      *' acr show '*'--query loginServer'*) echo acrtest.azurecr.io ;;
      *' acr repository show '*)
        while [ $# -gt 0 ] && [ "$1" != --image ]; do shift; done
        image_digest "${2%%:*}"
        ;;
      # Microsoft Graph: the backend API's app registration, its service principal, the grant.
      *' ad app list '*) [ -f "$FAKE_STATE/app" ] && echo 66666666-aaaa-4bbb-8ccc-000000000006 || true ;;
      *' ad app create '*) touch "$FAKE_STATE/app"; echo 66666666-aaaa-4bbb-8ccc-000000000006 ;;
      *' ad sp list '*) [ -f "$FAKE_STATE/sp" ] && echo 77777777-aaaa-4bbb-8ccc-000000000007 || true ;;
      *' ad sp create '*) touch "$FAKE_STATE/sp"; echo 77777777-aaaa-4bbb-8ccc-000000000007 ;;
      *' identity show '*'--name id-frontend '*) echo 88888888-aaaa-4bbb-8ccc-000000000008 ;;
      *' rest --method GET '*'appRoleAssignedTo'*) [ -f "$FAKE_STATE/granted" ] && echo 1 || echo 0 ;;
      *' rest --method POST '*'appRoleAssignedTo'*) touch "$FAKE_STATE/granted" ;;
      *' rest --method PATCH '*) printf '%s\n' "$*" >>"$FAKE_STATE/graph-patches" ;;
      *' aks show '*'--query location'*) echo swedencentral ;;
      *' keyvault certificate show '*) [ -f "$FAKE_STATE/certificate" ] ;;
      *' keyvault certificate create '*) touch "$FAKE_STATE/certificate" ;;
      *' keyvault show '*'--query id'*) echo /subscriptions/s/resourceGroups/rg-test/providers/Microsoft.KeyVault/vaults/kv-test ;;
      *' role assignment list '*) [ -f "$FAKE_STATE/certificate-reader" ] && echo assignment-id || true ;;
      *' role assignment create '*) touch "$FAKE_STATE/certificate-reader" ;;
      *'kedaClientId.value'*) keda_client_id ;; # [keda]
      *'aksClusterName.value, acrName.value'*)
        printf 'aks-doc-intake\tacrtest\tdoc-intake\t99999999-8888-7777-6666-555555555555\n' ;;
      *'outputs.workloadClientIds.value'*) workload_client_ids_json ;;
      *' --query properties.outputs --output json '*) outputs_json ;;
      *' resource show '*) [ -f "$FAKE_STATE/deployed" ] ;;
      *'endpoints.activeDirectory'*) echo https://login.microsoftonline.com ;;
      *'endpoints.resourceManager'*) echo https://management.azure.com/ ;;
      *) ;;
    esac
    ;;
  kubectl)
    case "$args" in
      *' auth can-i '*) echo yes ;;
      *' create token '*) echo 'eyJhbGciOiJSUzI1NiJ9.service-account-token.signature' ;;
      # [keda] begin
      *' get serviceaccount keda-operator '*) cat "$FAKE_STATE/keda-annotation" 2>/dev/null || true ;;
      *' annotate serviceaccount keda-operator '*)
        for arg in "$@"; do
          case "$arg" in azure.workload.identity/client-id=*) echo "${arg#*=}" >"$FAKE_STATE/keda-annotation" ;; esac
        done
        ;;
      # [keda] end
      *' get deployments '*) printf 'deployment.apps/backend\ndeployment.apps/frontend\n' ;;
      *) ;;
    esac
    ;;
  kubelogin) ;;
  curl)
    # The public-address echo the deploy scripts ask for the API server's authorized range.
    case "$args" in *'api.ipify.org'*) echo 203.0.113.10; exit 0 ;; esac
    # The first exchange of each run fails as an unpropagated credential does; later ones succeed.
    output=''
    while [ $# -gt 0 ]; do
      [ "$1" = --output ] && output=$2
      shift
    done
    if [ ! -f "$FAKE_STATE/exchanged" ]; then
      touch "$FAKE_STATE/exchanged"
      echo '{"error":"invalid_client","error_description":"AADSTS700213: No matching federated identity record found"}' >"$output"
      printf 401
    else
      echo '{"access_token":"secret-access-token"}' >"$output"
      printf 200
    fi
    ;;
esac
