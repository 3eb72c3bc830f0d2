// Key Vault with Azure RBAC (no access policies), soft delete and purge protection, holding every
// secret the declaration lists (identities.json resources.keyVault.secrets). Each service may read
// only its own secret: the role assignments are scoped to the secret, not to the vault (see
// workload-role-assignments.bicep).

import { resourceTags } from 'types.bicep'

@description('Vault name: globally unique, 3-24 characters.')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the vault.')
param location string

@description('Tags for every resource.')
param tags resourceTags

@description('The declared secrets: each is created with a value derived from secretSeed.')
param secretNames string[]

@description('Random seed of the secrets\' values, generated at deployment time (main.bicep). Never in the repository, the compiled template or the deployment history.')
@secure()
param secretSeed string

@description('Secrets that already exist: left as they are, since every write is a new version, i.e. a rotation. A secret declared later is then created alone.')
param existingSecrets string[]

@description('Public network access off (networkIsolation): reachable only through its private endpoint.')
param isolated bool

@description('Log Analytics workspace of the diagnostic setting.')
param logAnalyticsWorkspaceId string

@description('Days a deleted vault or secret stays recoverable (7-90); fixed at creation.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionDays int

@description('Object id of whoever deploys (deployerPrincipalId): gets Key Vault Certificates Officer to create the Ingress certificate; empty grants nothing.')
param deployerPrincipalId string

@description('Principal type of the deployer.')
@allowed(['User', 'Group', 'ServicePrincipal'])
param deployerPrincipalType string

@description('False writes no secret; true writes every declared secret not in existingSecrets (a new value for one that exists is a key rotation).')
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
    // 90 by default, the longest Key Vault offers: a deleted vault or secret can be recovered for
    // 90 days. Fixed at creation: a vault created with 7 keeps 7 (the deploy scripts pass it on).
    softDeleteRetentionInDays: softDeleteRetentionDays
    // Irreversible once on: a deleted vault stays recoverable for the retention period and its
    // name stays reserved (see infra/README.md on `azd down`).
    enablePurgeProtection: true
    // Isolated: nothing reaches the data plane but the private endpoint (the firewall's Deny plus
    // public access off; trusted Azure services are not let through either). Not isolated: the
    // data plane is public and every request still needs an Entra token and an RBAC role.
    publicNetworkAccess: isolated ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: isolated ? 'None' : 'AzureServices'
      defaultAction: isolated ? 'Deny' : 'Allow'
    }
  }
}

// Each secret's value: two guid() hashes of the seed and the secret's name, dashes removed (64 hex
// digits). The seed is 244 random bits (main.bicep), so every value is as unpredictable as the
// seed, and the values are independent: knowing one (a service may read its own) tells nothing of
// another or of the seed, as guid() is a hash of its arguments (a name-based, SHA-1 UUID), which
// cannot be run backwards. Only the 122 bits of each UUID that are not version bits vary.
// Bicep allows newGuid() only as a parameter default, so one seed parameter serves any number of
// declared secrets, and no secret is a parameter of its own.
resource secrets 'Microsoft.KeyVault/vaults/secrets@2026-05-15' = [
  for secretName in secretNames: if (writeSecrets && !contains(existingSecrets, secretName)) {
    parent: vault
    name: secretName
    properties: {
      value: '${replace(guid(secretSeed, secretName, '1'), '-', '')}${replace(guid(secretSeed, secretName, '2'), '-', '')}'
      contentType: 'text/plain; generated at deployment (HMAC key)'
      attributes: {
        enabled: true
      }
    }
  }
]

// AuditEvent (every data-plane request: who read which secret) and policy evaluations, to the workspace.
#disable-next-line use-recent-api-versions // the newest version; the only GA one (2016-09-01) predates category groups
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
  }
}

// The deployer creates the Ingress TLS certificate (scripts/deploy-app.sh, a self-signed one when
// none exists) and then grants the application routing add-on's identity Key Vault Secrets User on
// that certificate's secret only: the add-on reads a certificate's private key as the secret of
// the same name. That grant is the script's, not this template's, because a role assignment
// cannot be scoped to a secret that does not exist yet, and certificates are created through the
// data plane only. Certificates Officer manages certificates, not the app's secrets' values.
var roles = {
  keyVaultCertificatesOfficer: 'a4417e6f-fecd-4de8-b567-7b0420556985'
}

resource deployerCertificatesOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  scope: vault
  name: guid(vault.id, deployerPrincipalId, roles.keyVaultCertificatesOfficer)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultCertificatesOfficer)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
    description: 'Deployer creates the Ingress TLS certificate'
  }
}

@description('Vault id, for its private endpoint.')
output id string = vault.id

@description('Vault name, for the deploy scripts (do the secrets exist yet?).')
output name string = vault.name

@description('Vault URI (https://<name>.vault.azure.net/): AZURE_KEYVAULT_URL of both services.')
output uri string = vault.properties.vaultUri
