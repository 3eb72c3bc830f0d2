// The identity a GitHub Actions deploy signs in as (.github/workflows/deploy.yml, azure/login with
// OIDC): a user-assigned managed identity whose one federated credential trusts the token GitHub
// issues to a job of one environment of one repository. No client secret exists anywhere: the
// workflow asks GitHub for an OIDC token (permissions: id-token: write) and Entra exchanges it.
// Its roles, from infra/identities.json's deployIdentities, apply to this resource group only.

import { deployIdentity, resourceTags } from 'types.bicep'

@description('Azure region of the identity.')
param location string

@description('The deploy identity of infra/identities.json.')
param identity deployIdentity

@description('owner/name of the GitHub repository, for "github-repository".')
param githubRepository string

@description('The role definition ids the templates assign: all that RBAC Administrator "declared-roles-only" may assign or remove.')
param assignableRoleIds string[]

@description('Tags for every resource.')
param tags resourceTags

var repositoryReference = 'github-repository'
var repository = identity.federatedCredential.repository == repositoryReference
  ? githubRepository
  : identity.federatedCredential.repository

resource managedIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: identity.managedIdentityName
  location: location
  tags: union(tags, { deploy: identity.name })
}

resource federatedCredential 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30' = {
  parent: managedIdentity
  name: identity.federatedCredential.name
  properties: {
    issuer: identity.federatedCredential.issuer
    // A job with `environment: production` gets sub repo:<owner>/<name>:environment:production.
    // A pull request's token (repo:<owner>/<name>:pull_request) and a branch's
    // (repo:<owner>/<name>:ref:refs/heads/main) do not match: AADSTS700213.
    subject: 'repo:${repository}:environment:${identity.federatedCredential.environment}'
    audiences: identity.federatedCredential.audiences
  }
}

// Constrained delegation: Role Based Access Control Administrator may write or delete only
// assignments of the roles these templates assign, so the pipeline cannot make itself (or
// anyone) Owner. https://learn.microsoft.com/azure/role-based-access-control/delegate-role-assignments-overview
// Multi-line strings do not interpolate: the list replaces a placeholder.
var declaredRolesOnlyTemplate = '''(
 (
  !(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})
 )
 OR
 (
  @Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {ROLE_IDS}
 )
)
AND
(
 (
  !(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})
 )
 OR
 (
  @Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {ROLE_IDS}
 )
)'''
var declaredRolesOnly = replace(declaredRolesOnlyTemplate, 'ROLE_IDS', join(assignableRoleIds, ', '))

resource roles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in identity.roleAssignments: {
    name: guid(resourceGroup().id, managedIdentity.id, a.roleDefinitionId)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
      principalId: managedIdentity.properties.principalId
      principalType: 'ServicePrincipal'
      description: '${identity.name}: ${a.role} on the resource group'
      condition: a.?condition == 'declared-roles-only' ? declaredRolesOnly : null
      conditionVersion: a.?condition == 'declared-roles-only' ? '2.0' : null
    }
  }
]

@description('Client id: AZURE_CLIENT_ID of the GitHub environment (a variable, not a secret).')
output clientId string = managedIdentity.properties.clientId

@description('Principal id, for the Graph app role that lets the pipeline manage the API app registration.')
output principalId string = managedIdentity.properties.principalId

@description('The subject its federated credential trusts.')
output subject string = federatedCredential.properties.subject
