#!/bin/sh
# azd predeploy hook (azure.yaml): `azd up` / `azd deploy` build the images, render
# k8s/overlays/aks from the provision's outputs and apply it, exactly as scripts/deploy-app.sh
# does for people without azd. azd exports AZURE_RESOURCE_GROUP to hooks, and every value of the
# environment.
# `azd env set ENABLE_KEDA_AUTOSCALING true` deploys k8s/overlays/aks-keda instead (docs/keda.md). # [keda]
set -eu
here=$(cd "$(dirname "$0")" && pwd)

: "${AZURE_RESOURCE_GROUP:?azd did not export AZURE_RESOURCE_GROUP: run azd provision first}"
exec bash "$here/deploy-app.sh"
