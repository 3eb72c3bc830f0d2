#!/usr/bin/env bash
# Deploys the two services onto the cluster of an existing deployment of infra/main.bicep:
# builds and pushes the images, writes the overlay's env file from the deployment's outputs,
# applies k8s/overlays/aks (k8s/overlays/aks-keda with ENABLE_KEDA_AUTOSCALING=true), waits until
# Entra ID accepts each federated credential, then restarts the pods so they start with working
# identities. Safe to run again.
#
#   AZURE_RESOURCE_GROUP=<group> scripts/deploy-app.sh
#
# Environment:
#   AZURE_RESOURCE_GROUP  resource group of the deployment (required; azd sets it)
#   DEPLOYMENT_NAME       deployment to read outputs from (default: the latest of infra/main.bicep)
#   IMAGE_TAG             image tag (default: <commit>-<UTC time>)
#   IMAGE_BUILDER         acr (default: `az acr build`, no local Docker) | docker (scripts/docker-build.sh,
#                         then push) | none (reuse images already tagged IMAGE_TAG)
#   FIC_WAIT_SECONDS      how long to wait for federated credentials to propagate (default 300)
#   RETRY_SECONDS         pause between two checks while waiting (default 10)
#   ENABLE_KEDA_AUTOSCALING  true: the backend scales on queue depth with KEDA (the deployment must
#                         have been provisioned with it: KEDA add-on + id-keda)
set -euo pipefail
. "$(dirname "$0")/deploy-common.sh"

group=${AZURE_RESOURCE_GROUP:?set AZURE_RESOURCE_GROUP to the resource group of the deployment}
need az 'Install the Azure CLI: https://aka.ms/install-azure-cli'
need kubectl 'Run `az aks install-cli` (installs kubectl and kubelogin).'
need kubelogin 'Run `az aks install-cli` (installs kubectl and kubelogin).'
need curl 'Install curl.'

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

deployment=${DEPLOYMENT_NAME:-$(latest_deployment "$group")}
[ -n "$deployment" ] || die "no successful deployment of infra/main.bicep in $group; provision first"
say "Reading the outputs of deployment $deployment in $group"
IFS=$'\t' read -r cluster registry namespace tenant frontend_client backend_client < <(
  az deployment group show --resource-group "$group" --name "$deployment" --output tsv \
    --query 'properties.outputs.[aksClusterName.value, acrName.value, namespace.value, tenantId.value, frontendClientId.value, backendClientId.value]'
)
printf '  cluster %s, registry %s, namespace %s\n' "$cluster" "$registry" "$namespace" >&2

export IMAGE_TAG=${IMAGE_TAG:-$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo dev)-$(date -u +%Y%m%d%H%M%S)}
say "Building doc-intake-frontend and doc-intake-backend:$IMAGE_TAG (${IMAGE_BUILDER:-acr})"
# One Dockerfile at the root builds either service (--build-arg SERVICE=...); see docs there.
case ${IMAGE_BUILDER:-acr} in
  acr)
    [ -f "$repo_root/Dockerfile" ] || die "no Dockerfile at the repository root"
    for service in frontend backend; do
      # Built inside the registry (ACR Tasks): no local Docker, no push credentials.
      run az acr build --registry "$registry" --image "doc-intake-$service:$IMAGE_TAG" \
        --build-arg "SERVICE=$service" --file "$repo_root/Dockerfile" "$repo_root" \
        --only-show-errors --output none
    done
    ;;
  docker)
    login_server=$(az acr show --name "$registry" --query loginServer --output tsv)
    # An Entra token for the registry, handed to docker; the registry has no admin password.
    run az acr login --name "$registry"
    run env IMAGE_PREFIX="$login_server/doc-intake-" "$repo_root/scripts/docker-build.sh" frontend backend
    for service in frontend backend; do
      run docker push "$login_server/doc-intake-$service:$IMAGE_TAG"
    done
    ;;
  none) printf '  reusing the images tagged %s\n' "$IMAGE_TAG" >&2 ;;
  *) die "IMAGE_BUILDER must be acr, docker or none" ;;
esac

overlay=aks
keda_client=''
if [ "${ENABLE_KEDA_AUTOSCALING:-false}" = true ]; then
  overlay=aks-keda
  keda_client=$(deployment_output "$group" "$deployment" kedaClientId)
fi

say "Writing the env file(s) of k8s/overlays/$overlay from the outputs (never by hand)"
# ENABLE_KEDA_AUTOSCALING reaches it too: then it also writes k8s/overlays/aks-keda/keda.env.
run "$repo_root/scripts/write-aks-env.sh" "$group" "$deployment"

say "Signing in to $cluster with Entra ID (local accounts are disabled)"
run az aks get-credentials --resource-group "$group" --name "$cluster" --overwrite-existing --only-show-errors
# Use the Azure CLI's sign-in for kubectl instead of an interactive device-code login.
run kubelogin convert-kubeconfig --login azurecli
# A new Azure RBAC role assignment (cluster admin for the deployer) takes a minute or two.
for attempt in $(seq 1 30); do
  [ "$(kubectl auth can-i create namespaces 2>/dev/null)" = yes ] && break
  [ "$attempt" = 30 ] && die 'kubectl is still not authorized; does your principal have Azure Kubernetes Service RBAC Cluster Admin on the cluster?'
  printf '  waiting for the cluster role assignment to propagate (%s/30)\n' "$attempt" >&2
  sleep "${RETRY_SECONDS:-10}"
done

say "Applying k8s/overlays/$overlay"
run kubectl apply -k "$repo_root/k8s/overlays/$overlay"

# KEDA's operator authenticates as id-keda (the TriggerAuthentication names its client id). The
# AKS add-on owns its ServiceAccount, so k8s/ does not render it; Microsoft's guide annotates it
# with the client id and restarts the operator so the webhook injects the workload identity
# variables into its pods (https://learn.microsoft.com/azure/aks/keda-workload-identity).
keda_restart=false
if [ -n "$keda_client" ]; then
  annotation='azure\.workload\.identity/client-id'
  current=$(kubectl get serviceaccount keda-operator --namespace kube-system \
    --output "jsonpath={.metadata.annotations.$annotation}" 2>/dev/null || true)
  if [ "$current" != "$keda_client" ]; then
    run kubectl annotate serviceaccount keda-operator --namespace kube-system --overwrite \
      "azure.workload.identity/client-id=$keda_client"
    keda_restart=true
  fi
fi

# The exchange a pod makes, made here with a token of the pod's own service account: until Entra
# ID has propagated a new federated credential it answers AADSTS700213 (or AADSTS70021), and pods
# that started meanwhile have failed readiness.
authority=$(az cloud show --query endpoints.activeDirectory --output tsv)
scope="$(az cloud show --query endpoints.resourceManager --output tsv).default"
exchange_works() {
  local account_namespace=$1 account=$2 client_id=$3 status code
  (umask 077 && kubectl create token "$account" --namespace "$account_namespace" \
    --audience api://AzureADTokenExchange --duration 10m >"$work/assertion")
  # The assertion is read from a file (@), so it never appears in a process list; the answer
  # (an access token on success) is deleted unread.
  status=$(curl --silent --show-error --output "$work/answer" --write-out '%{http_code}' \
    --data-urlencode "client_id=$client_id" \
    --data-urlencode grant_type=client_credentials \
    --data-urlencode "scope=$scope" \
    --data-urlencode client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
    --data-urlencode "client_assertion@$work/assertion" \
    "${authority%/}/$tenant/oauth2/v2.0/token") || status=000
  code=$(grep -o 'AADSTS[0-9]*' "$work/answer" | head -n 1 || true)
  rm -f "$work/assertion" "$work/answer"
  [ "$status" = 200 ] && return 0
  printf '  %s: HTTP %s %s\n' "$account" "$status" "${code:-}" >&2
  return 1
}

say 'Waiting for the federated credentials to be accepted by Entra ID'
deadline=$((SECONDS + ${FIC_WAIT_SECONDS:-300}))
accounts=("$namespace frontend $frontend_client" "$namespace backend $backend_client")
[ -z "$keda_client" ] || accounts+=("kube-system keda-operator $keda_client")
for entry in "${accounts[@]}"; do
  read -r account_namespace account client_id <<<"$entry"
  until exchange_works "$account_namespace" "$account" "$client_id"; do
    [ "$SECONDS" -lt "$deadline" ] || die "Entra ID still refuses the token of $account_namespace/$account; see infra/README.md (Troubleshooting)"
    sleep "${RETRY_SECONDS:-10}"
  done
  printf '  %s: token exchange works\n' "$account" >&2
done

say 'Restarting the pods, so each starts with a working identity'
run kubectl rollout restart deployment --namespace "$namespace"
for deployment_object in $(kubectl get deployments --namespace "$namespace" --output name); do
  run kubectl rollout status "$deployment_object" --namespace "$namespace" --timeout 5m
done
if [ "$keda_restart" = true ]; then
  run kubectl rollout restart deployment keda-operator --namespace kube-system
  run kubectl rollout status deployment keda-operator --namespace kube-system --timeout 5m
fi

say 'Done'
run kubectl get ingress,pods --namespace "$namespace"
