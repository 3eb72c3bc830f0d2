#!/usr/bin/env bash
# Deploys the services of infra/identities.json onto the cluster of an existing deployment of
# infra/main.bicep:
# builds and pushes the images, writes the overlay's env file from the deployment's outputs,
# applies k8s/overlays/aks, waits until Entra ID accepts each federated credential, then restarts
# the pods so they start with working identities. Safe to run again.
# With ENABLE_KEDA_AUTOSCALING=true it applies k8s/overlays/aks-keda instead (docs/keda.md). # [keda]
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
#   ENABLE_KEDA_AUTOSCALING  true: the backend scales on queue depth with KEDA; the deployment # [keda]
#                         must have been provisioned with it (docs/keda.md)               # [keda]
#   INGRESS_HOST          host name of the site (default <namespace>-<suffix>.<region>.cloudapp.azure.com,
#                         a DNS label on the ingress load balancer); the Key Vault certificate is for it
#   INGRESS_CERTIFICATE   existing certificate name in the vault (default: the deployment's
#                         ingressCertificateName; a self-signed one is created when it is missing)
#   DEPLOY_FROM_VNET      true: this machine is in the deployment's VNet (a jump box, a self-hosted
#                         runner), so it reaches a private cluster's API server and, with
#                         networkIsolation, the registry and Key Vault; without it both are refused
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
IFS=$'\t' read -r cluster registry namespace tenant < <(
  az deployment group show --resource-group "$group" --name "$deployment" --output tsv \
    --query 'properties.outputs.[aksClusterName.value, acrName.value, namespace.value, tenantId.value]'
)
printf '  cluster %s, registry %s, namespace %s\n' "$cluster" "$registry" "$namespace" >&2
# The services to build and deploy: the declaration's, asked of its CLI.
mapfile -t services < <(service_names)
[ ${#services[@]} -gt 0 ] || die 'infra/identities.json declares no service'

# A private cluster's API server has no public address, and with networkIsolation the registry
# (image build, digests) and Key Vault (the Ingress certificate) answer their private endpoints
# only: those steps work from the VNet (a jump box, a self-hosted runner), kubectl also through
# `az aks command invoke` (infra/README.md, "Network modes: what works from a developer's machine").
if [ "${DEPLOY_FROM_VNET:-false}" != true ]; then
  if [ "$(deployment_output "$group" "$deployment" privateCluster)" = true ]; then
    die "$cluster is a private cluster: run this from a machine in its VNet with DEPLOY_FROM_VNET=true, or see infra/README.md (Network modes) for az aks command invoke"
  fi
  if [ "$(deployment_output "$group" "$deployment" networkIsolation)" = true ]; then
    die "$group was provisioned with networkIsolation: its registry and Key Vault answer only in the VNet; run this from a machine there with DEPLOY_FROM_VNET=true (and IMAGE_BUILDER=docker)"
  fi
fi

export IMAGE_TAG=${IMAGE_TAG:-$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo dev)-$(date -u +%Y%m%d%H%M%S)}
say "Building the images of ${services[*]}, tagged $IMAGE_TAG (${IMAGE_BUILDER:-acr})"
# One Dockerfile at the root builds either service (--build-arg SERVICE=...); see docs there.
case ${IMAGE_BUILDER:-acr} in
  acr)
    [ -f "$repo_root/Dockerfile" ] || die "no Dockerfile at the repository root"
    for service in "${services[@]}"; do
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
    run env IMAGE_PREFIX="$login_server/doc-intake-" "$repo_root/scripts/docker-build.sh" "${services[@]}"
    for service in "${services[@]}"; do
      run docker push "$login_server/doc-intake-$service:$IMAGE_TAG"
    done
    ;;
  none) printf '  reusing the images tagged %s\n' "$IMAGE_TAG" >&2 ;;
  *) die "IMAGE_BUILDER must be acr, docker or none" ;;
esac

# Images by digest: the overlay pins each Deployment to <tag>@sha256:<digest> of this build, so a
# re-pushed tag never changes what runs. <SERVICE>_IMAGE_VERSION reaches scripts/write-aks-env.sh.
for service in "${services[@]}"; do
  digest=$(az acr repository show --name "$registry" --image "doc-intake-$service:$IMAGE_TAG" \
    --query digest --output tsv)
  [[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || die "no digest for doc-intake-$service:$IMAGE_TAG in $registry"
  printf '  doc-intake-%s:%s@%s\n' "$service" "$IMAGE_TAG" "$digest" >&2
  export "$(variable_prefix "$service")_IMAGE_VERSION=$IMAGE_TAG@$digest"
done

say 'App registrations of the APIs (Microsoft Graph), from infra/identities.json'
DEPLOY_PRINCIPAL_ID=$(deployment_output "$group" "$deployment" deployPrincipalId 2>/dev/null || true)
export DEPLOY_PRINCIPAL_ID
for api_service in $(declaration | awk -F'\t' '$1 == "api" { print $2 }' | sort -u); do
  audience_variable="$(variable_prefix "$api_service")_API_AUDIENCE"
  # Given (the GitHub workflow's BACKEND_API_AUDIENCE): the registration exists and is kept by a
  # person with Graph rights; the pipeline's identity then needs none.
  if [ -n "${!audience_variable:-}" ]; then
    printf '  %s API: appId %s (given, Microsoft Graph not asked)\n' "$api_service" "${!audience_variable}" >&2
    continue
  fi
  read -r app_id sp_id < <(ensure_api_registration "$api_service")
  printf '  %s API: appId %s, audience %s\n' "$api_service" "$app_id" "$app_id" >&2
  grant_api_callers "$group" "$api_service" "$sp_id"
  export "$audience_variable=$app_id"
done

say 'TLS certificate of the Ingress, in Key Vault'
vault=$(deployment_output "$group" "$deployment" keyVaultName)
certificate=${INGRESS_CERTIFICATE:-$(deployment_output "$group" "$deployment" ingressCertificateName)}
location=$(az aks show --resource-group "$group" --name "$cluster" --query location --output tsv)
# The load balancer of the add-on's NGINX gets this DNS label: <label>.<region>.cloudapp.azure.com.
dns_label="$namespace-${registry#acr}"
export INGRESS_HOST=${INGRESS_HOST:-$dns_label.$location.cloudapp.azure.com}
if ! az keyvault certificate show --vault-name "$vault" --name "$certificate" --output none 2>/dev/null; then
  # Self-signed, for the learning deployment: the browser warns once, the traffic is encrypted and
  # the frontend's Secure cookies work. Import a CA-issued certificate under the same name for a
  # real site (az keyvault certificate import), or set INGRESS_CERTIFICATE.
  policy=$(INGRESS_HOST=$INGRESS_HOST node --input-type=module -e '
    const host = process.env.INGRESS_HOST;
    process.stdout.write(JSON.stringify({
      issuerParameters: { name: "Self" },
      keyProperties: { exportable: true, keyType: "RSA", keySize: 2048, reuseKey: false },
      secretProperties: { contentType: "application/x-pkcs12" },
      x509CertificateProperties: {
        subject: `CN=${host}`,
        subjectAlternativeNames: { dnsNames: [host] },
        keyUsage: ["digitalSignature", "keyEncipherment"],
        ekus: ["1.3.6.1.5.5.7.3.1"],
        validityInMonths: 12,
      },
      lifetimeActions: [{ trigger: { daysBeforeExpiry: 30 }, action: { actionType: "AutoRenew" } }],
    }));')
  run az keyvault certificate create --vault-name "$vault" --name "$certificate" --policy "$policy" --output none ||
    die "could not create the certificate $certificate in $vault (a networkIsolation vault is reachable from its VNet only)"
fi
export INGRESS_CERTIFICATE_URI="https://$vault.vault.azure.net/certificates/$certificate"
# The add-on reads the certificate's private key as the secret of the same name: Key Vault Secrets
# User on that one secret, nothing else in the vault.
add_on=$(deployment_output "$group" "$deployment" webAppRoutingPrincipalId)
secret_scope="$(az keyvault show --name "$vault" --query id --output tsv)/secrets/$certificate"
# Filtered by principal id rather than --assignee, which asks Microsoft Graph (a pipeline has no
# Graph rights).
if [ -z "$(az role assignment list --scope "$secret_scope" --role 4633458b-17de-408a-b874-0445c86b69e6 \
  --query "[?principalId=='$add_on'].id" --output tsv)" ]; then
  run az role assignment create --assignee-object-id "$add_on" --assignee-principal-type ServicePrincipal \
    --role 4633458b-17de-408a-b874-0445c86b69e6 --scope "$secret_scope" --output none
fi

overlay=aks
# [keda] begin
keda_client=''
if [ "${ENABLE_KEDA_AUTOSCALING:-false}" = true ]; then
  overlay=aks-keda
  keda_client=$(deployment_output "$group" "$deployment" kedaClientId)
fi
# [keda] end

say "Writing the env file(s) of k8s/overlays/$overlay from the outputs (never by hand)"
# ENABLE_KEDA_AUTOSCALING reaches it too: then it also writes k8s/overlays/aks-keda/keda.env. # [keda]
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

# The default NGINX of the add-on gets the DNS label the certificate's host name is built from
# (unless the host was chosen: its DNS is the chooser's).
if [ "$INGRESS_HOST" = "$dns_label.$location.cloudapp.azure.com" ]; then
  run kubectl patch nginxingresscontroller default --type merge \
    --patch "{\"spec\":{\"loadBalancerAnnotations\":{\"service.beta.kubernetes.io/azure-dns-label-name\":\"$dns_label\"}}}"
fi

say "Applying k8s/overlays/$overlay"
run kubectl apply -k "$repo_root/k8s/overlays/$overlay"

# [keda] begin
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
# [keda] end

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
# Every identity this deployment created (workloadClientIds: the services, and an optional
# feature's where it is on), with the service account the declaration federates it with.
client_ids=$(az deployment group show --resource-group "$group" --name "$deployment" \
  --query properties.outputs.workloadClientIds.value --output json)
accounts=()
while read -r service account_namespace account; do
  client_id=$(CLIENT_IDS=$client_ids SERVICE=$service node --input-type=module -e '
    const id = JSON.parse(process.env.CLIENT_IDS || "{}")?.[process.env.SERVICE];
    if (typeof id === "string") process.stdout.write(id);')
  [ -z "$client_id" ] || accounts+=("$account_namespace $account $client_id")
done < <(service_accounts)
[ ${#accounts[@]} -gt 0 ] || die "deployment $deployment has no workloadClientIds output: provision again with the current infra/"
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
# [keda] begin
if [ "$keda_restart" = true ]; then
  run kubectl rollout restart deployment keda-operator --namespace kube-system
  run kubectl rollout status deployment keda-operator --namespace kube-system --timeout 5m
fi
# [keda] end

say 'Done'
run kubectl get ingress,pods --namespace "$namespace"
printf '\n  https://%s/\n' "$INGRESS_HOST" >&2
