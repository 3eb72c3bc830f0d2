import type { AccessTokenClaims } from '../tokens/access-token.js';
import {
  localClientId,
  type IdentitiesFile,
  type RoleAssignment,
  type ServiceIdentity,
} from '../identities/index.js';
import { actionMatches, BUILT_IN_ROLE_DATA_ACTIONS } from './built-in-roles.js';
import type { AuthorizationDecision } from './decision.js';

export type ResourceKind = RoleAssignment['scope']['resource'];

/** The resource a request touches, as narrowly as the data plane knows it. */
export interface RequestScope {
  container?: string;
  queue?: string;
  secret?: string;
  database?: string;
}

/**
 * Azure RBAC for the local data planes, from infra/identities.json: a request is allowed when one
 * of the caller's role assignments grants the action at a scope that contains the resource.
 * The caller is found by the token's appid (the managed identity's client id).
 */
export class RoleAssignments {
  private readonly byClientId: Map<string, ServiceIdentity>;

  constructor(identities: IdentitiesFile) {
    this.byClientId = new Map(
      identities.identities.map((identity) => [localClientId(identity), identity]),
    );
  }

  check(
    claims: AccessTokenClaims,
    resource: ResourceKind,
    action: string,
    scope: RequestScope,
  ): AuthorizationDecision {
    const identity = this.byClientId.get(claims.appid);
    const who = identity
      ? `'${identity.managedIdentityName}' (object id ${claims.oid})`
      : `object id ${claims.oid}`;
    const granted = identity?.roleAssignments.some(
      (assignment) =>
        assignment.scope.resource === resource &&
        scopeContains(assignment.scope, scope) &&
        (BUILT_IN_ROLE_DATA_ACTIONS[assignment.roleDefinitionId]?.dataActions ?? []).some(
          (pattern) => actionMatches(pattern, action),
        ),
    );
    if (granted) return { allowed: true };
    return {
      allowed: false,
      message: `The principal ${who} does not have the action '${action}' on scope '${describeScope(resource, scope)}'.`,
    };
  }
}

function scopeContains(assigned: RoleAssignment['scope'], requested: RequestScope): boolean {
  switch (assigned.resource) {
    case 'storage':
      return requested.container === assigned.container;
    case 'serviceBus':
      // A queue's dead-letter sub-queue is part of the queue's scope.
      return requested.queue?.split('/')[0]?.toLowerCase() === assigned.queue.toLowerCase();
    case 'keyVault':
      return requested.secret === assigned.secret;
    case 'cosmos':
      // Account-level metadata reads carry no database; a database-scoped role still allows them.
      if (requested.database === undefined) return true;
      return (
        requested.database === assigned.database &&
        (assigned.container === undefined ||
          requested.container === undefined ||
          requested.container === assigned.container)
      );
    case 'applicationInsights':
      // One component per deployment: the assignment covers all of it.
      return true;
  }
}

function describeScope(resource: ResourceKind, scope: RequestScope): string {
  switch (resource) {
    case 'storage':
      return `/blobServices/default/containers/${scope.container ?? ''}`;
    case 'serviceBus':
      return `/queues/${scope.queue ?? ''}`;
    case 'keyVault':
      return `/secrets/${scope.secret ?? ''}`;
    case 'cosmos':
      return `/dbs/${scope.database ?? ''}${scope.container ? `/colls/${scope.container}` : ''}`;
    case 'applicationInsights':
      return '/components';
  }
}
