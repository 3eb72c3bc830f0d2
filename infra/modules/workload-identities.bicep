// One user-assigned managed identity per service, each trusting exactly one Kubernetes service
// account of this cluster. This is the whole of "workload identity" on the Azure side: Entra ID
// exchanges a projected service-account token for an access token of the identity when the token's
// issuer, subject and audience match a federated identity credential of that identity.

import { serviceIdentity, createdIdentity, resourceTags } from 'types.bicep'

@description('Azure region of the identities.')
param location string

@description('The identities of infra/identities.json.')
param identities serviceIdentity[]

@description('Issuer URL of the AKS cluster (oidcIssuerProfile.issuerURL), trailing slash included, exactly as in its tokens.')
param oidcIssuerUrl string

@description('Tags for every resource.')
param tags resourceTags

// identities.json names the cluster's issuer by this placeholder, since the URL only exists once
// the cluster does (it embeds the tenant and a per-cluster GUID).
var clusterIssuerReference = 'aks-oidc-issuer'

resource managedIdentities 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = [
  for identity in identities: {
    name: identity.managedIdentityName
    location: location
    tags: union(tags, { service: identity.service })
  }
]

// Entra ID rejects concurrent writes of federated credentials on one identity ("Too many
// Federated Identity Credentials are written concurrently"), so they are created one at a time.
@batchSize(1)
resource federatedCredentials 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30' = [
  for (identity, i) in identities: {
    parent: managedIdentities[i]
    name: identity.federatedCredential.name
    properties: {
      issuer: identity.federatedCredential.issuer == clusterIssuerReference
        ? oidcIssuerUrl
        : identity.federatedCredential.issuer
      // The token's `sub`: system:serviceaccount:<namespace>:<service account>, compared case-sensitively.
      subject: identity.federatedCredential.subject
      // api://AzureADTokenExchange: the audience the workload identity webhook projects tokens for.
      audiences: identity.federatedCredential.audiences
    }
  }
]

@description('Client id (for the service account annotation) and principal id (for role assignments) of each identity, in file order.')
output identities createdIdentity[] = [
  for (identity, i) in identities: {
    service: identity.service
    clientId: managedIdentities[i].properties.clientId
    principalId: managedIdentities[i].properties.principalId
  }
]
