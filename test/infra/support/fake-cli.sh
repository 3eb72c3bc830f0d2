#!/usr/bin/env bash
# Stand-in for az, kubectl, kubelogin and curl (installed under those names on PATH by
# test/infra/deploy-scripts.test.ts): logs each call to $FAKE_LOG and answers like a first
# deployment would. $FAKE_STATE holds what "Azure" and the cluster remember between runs.
set -euo pipefail
tool=$(basename "$0")
printf '%s %s\n' "$tool" "$*" >>"$FAKE_LOG"
args=" $* "

# id-keda exists, and kedaClientId is set, only when the deployment ran with the option on (the
# environment variable that infra/main.bicepparam reads).
keda_client_id() {
  if [ -f "$FAKE_STATE/keda" ]; then echo 33333333-aaaa-4bbb-8ccc-000000000003; fi
}

outputs_json() {
  cat <<JSON
{
  "kedaClientId": { "type": "String", "value": "$(keda_client_id)" },
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
        if [ "${ENABLE_KEDA_AUTOSCALING:-}" = true ]; then touch "$FAKE_STATE/keda"; else rm -f "$FAKE_STATE/keda"; fi
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
      *' acr repository show '*'doc-intake-frontend:'*) echo "sha256:$(printf 'a%.0s' $(seq 1 64))" ;;
      *' acr repository show '*'doc-intake-backend:'*) echo "sha256:$(printf 'b%.0s' $(seq 1 64))" ;;
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
      *'kedaClientId.value'*) keda_client_id ;;
      *'aksClusterName.value, acrName.value'*)
        printf 'aks-doc-intake\tacrtest\tdoc-intake\t99999999-8888-7777-6666-555555555555\t11111111-aaaa-4bbb-8ccc-000000000001\t11111111-aaaa-4bbb-8ccc-000000000002\n' ;;
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
      *' get serviceaccount keda-operator '*) cat "$FAKE_STATE/keda-annotation" 2>/dev/null || true ;;
      *' annotate serviceaccount keda-operator '*)
        for arg in "$@"; do
          case "$arg" in azure.workload.identity/client-id=*) echo "${arg#*=}" >"$FAKE_STATE/keda-annotation" ;; esac
        done
        ;;
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
