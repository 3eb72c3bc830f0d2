// Key Vault with Azure RBAC (no access policies), soft delete and purge protection, holding the
// two application keys. Each service may read only its own secret: the role assignments are scoped
// to the secret, not to the vault (see workload-role-assignments.bicep).

import { resourceTags } from 'types.bicep'

@description('Vault name: globally unique, 3-24 characters.')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the vault.')
param location string

@description('Tags for every resource.')
param tags resourceTags

@description('Secret name → value. Values come from secure parameters generated at deployment time; they never appear in the repository, the compiled template or the deployment history.')
@secure()
param secretValues {
  *: string
}

@description('False leaves existing secrets untouched: every write is a new secret version, i.e. a key rotation.')
param writeSecrets bool

resource vault 'Microsoft.KeyVault/vaults@2026-05-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    // Data-plane access by Azure role assignments (Key Vault Secrets User on one secret), which
    // unlike access policies can be scoped below the vault.
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    // Irreversible once on: a deleted vault stays recoverable for the retention period and its
    // name stays reserved (see infra/README.md on `azd down`).
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource secrets 'Microsoft.KeyVault/vaults/secrets@2026-05-15' = [
  for secret in items(secretValues): if (writeSecrets) {
    parent: vault
    name: secret.key
    properties: {
      value: secret.value
      contentType: 'text/plain; generated at deployment (HMAC key)'
      attributes: {
        enabled: true
      }
    }
  }
]

@description('Vault name, for the deploy scripts (do the secrets exist yet?).')
output name string = vault.name

@description('Vault URI (https://<name>.vault.azure.net/): AZURE_KEYVAULT_URL of both services.')
output uri string = vault.properties.vaultUri
