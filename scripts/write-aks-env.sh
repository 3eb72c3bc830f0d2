#!/usr/bin/env bash
# Writes k8s/overlays/aks/azure.env from the outputs of the Bicep deployment, so that no client
# id, tenant id, endpoint or name is ever typed into the manifests by hand.
# With ENABLE_KEDA_AUTOSCALING=true it also writes k8s/overlays/aks-keda/keda.env. # [keda]
#
#   scripts/write-aks-env.sh <resource-group> [deployment-name]    (deployment default: main)
#
# The keys are those of each file's committed .example, each the name of a Bicep output, except
# the values scripts/deploy-app.sh learns at deploy time, passed in the environment, and the
# per-service ones, for each service of infra/identities.json (<SERVICE>: its name in upper case,
# - as _):
#   imageTag                  $IMAGE_TAG, or the current commit
#   <service>ImageVersion     $<SERVICE>_IMAGE_VERSION, <tag>@sha256:<digest> of the registry build
#   <service>ApiAudience      $<SERVICE>_API_AUDIENCE, the appId of its API's app registration
#   <service>ApiScope         api://$<SERVICE>_API_AUDIENCE/.default
#   <service>ClientId         the output of that name, else the service's entry in the output
#                             workloadClientIds (every identity the deployment created)
#   ingressHost               $INGRESS_HOST, the host name of the Ingress certificate
#   ingressCertificateUri     $INGRESS_CERTIFICATE_URI, that certificate in Key Vault
# A missing or empty value is an error that names it. AZURE_ENV_FILE overrides where the file is
# written (KEDA_ENV_FILE, keda.env's). # [keda]
set -euo pipefail

resource_group=${1:?usage: scripts/write-aks-env.sh <resource-group> [deployment-name]}
deployment=${2:-main}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/deploy-common.sh"
image_tag=${IMAGE_TAG:-$(git -C "$root" rev-parse --short HEAD)}

# Every identity of the declaration, optional features' too (a feature's env file names its
# client id): a key named after one is filled in from the deployment.
services=$(service_accounts | cut -d' ' -f1)

outputs=$(az deployment group show \
  --resource-group "$resource_group" --name "$deployment" \
  --query properties.outputs --output json)

# Writes one env file: the keys of its example, the values from the outputs.
# Node, not jq: it is the one tool this repository already requires.
write_env() {
  OUTPUTS=$outputs IMAGE_TAG=$image_tag SOURCE="$resource_group/$deployment" SERVICES=$services \
    node --input-type=module - "$1" "$2" <<'JS'
import { readFileSync, writeFileSync } from 'node:fs';
const [example, out] = process.argv.slice(2);
const outputs = JSON.parse(process.env.OUTPUTS || '{}') ?? {};
const keys = readFileSync(example, 'utf8')
  .split('\n')
  .filter((line) => line.trim() && !line.trimStart().startsWith('#'))
  .map((line) => line.slice(0, line.indexOf('=')));
// ARM returns outputs keyed by name with the case Bicep declared; compare case-insensitively.
const byName = new Map(Object.entries(outputs).map(([name, output]) => [name.toLowerCase(), output]));
const clientIds = byName.get('workloadclientids')?.value ?? {};
const deployTime = {
  imageTag: process.env.IMAGE_TAG,
  ingressHost: process.env.INGRESS_HOST,
  ingressCertificateUri: process.env.INGRESS_CERTIFICATE_URI,
};
for (const service of (process.env.SERVICES ?? '').split('\n').filter(Boolean)) {
  const variable = service.toUpperCase().replaceAll('-', '_');
  const audience = process.env[`${variable}_API_AUDIENCE`];
  deployTime[`${service}ImageVersion`] = process.env[`${variable}_IMAGE_VERSION`];
  deployTime[`${service}ApiAudience`] = audience;
  deployTime[`${service}ApiScope`] = audience ? `api://${audience}/.default` : undefined;
  if (!byName.has(`${service}ClientId`.toLowerCase()))
    deployTime[`${service}ClientId`] = clientIds[service];
}
const lines = [];
const missing = [];
for (const key of keys) {
  const value = key in deployTime ? deployTime[key] : byName.get(key.toLowerCase())?.value;
  if (typeof value !== 'string' || value === '' || /[\r\n]/.test(value)) missing.push(key);
  else lines.push(`${key}=${value}`);
}
if (missing.length > 0) {
  console.error(`deployment ${process.env.SOURCE} lacks the output(s): ${missing.join(', ')}`);
  process.exit(1);
}
const header = `# Written by scripts/write-aks-env.sh from deployment ${process.env.SOURCE}. Do not edit.\n`;
writeFileSync(out, header + lines.join('\n') + '\n');
console.log(`wrote ${out} (${lines.length} values)`);
JS
}

write_env "$root/k8s/overlays/aks/azure.env.example" "${AZURE_ENV_FILE:-$root/k8s/overlays/aks/azure.env}"

# [keda] begin
if [ "${ENABLE_KEDA_AUTOSCALING:-false}" = true ]; then
  # kedaClientId is empty when the deployment was provisioned without the option (no id-keda).
  write_env "$root/k8s/overlays/aks-keda/keda.env.example" "${KEDA_ENV_FILE:-$root/k8s/overlays/aks-keda/keda.env}" ||
    {
      echo "provision with ENABLE_KEDA_AUTOSCALING=true first: it creates id-keda and the KEDA add-on" >&2
      exit 1
    }
fi
# [keda] end
