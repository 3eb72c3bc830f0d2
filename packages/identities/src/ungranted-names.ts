import type { IdentitiesFile, RoleAssignment } from './declaration.js';

/** Declared resources that none of a service's role assignments reach: what it must not touch. */
export interface UngrantedNames {
  secrets: string[];
  containers: string[];
  queues: string[];
  cosmosContainers: Array<{ database: string; container: string }>;
}

/**
 * For `service`, every declared secret, blob container, queue and Cosmos DB container that no
 * role assignment of its identity is scoped to (a database-wide Cosmos role covers all of that
 * database's containers). These are the names a least-privilege identity is refused: the
 * Identity report probes them and expects a 403 from the data plane itself. What a granted role
 * does not allow on a granted name (Send on a queue it may only receive from) is not here: that
 * depends on the role, not on the name.
 */
export function ungrantedNames(file: IdentitiesFile, service: string): UngrantedNames {
  const identity = file.identities.find((candidate) => candidate.service === service);
  if (!identity) throw new Error(`service '${service}' is not declared in the identities file`);
  const scopes = identity.roleAssignments.map((assignment: RoleAssignment) => assignment.scope);
  const granted = (resource: string, key: string) =>
    new Set(
      scopes.flatMap((scope) =>
        scope.resource === resource ? [String((scope as Record<string, unknown>)[key])] : [],
      ),
    );
  const secrets = granted('keyVault', 'secret');
  const containers = granted('storage', 'container');
  const queues = granted('serviceBus', 'queue');
  const cosmosGranted = (database: string, container: string) =>
    scopes.some(
      (scope) =>
        scope.resource === 'cosmos' &&
        scope.database === database &&
        (scope.container === undefined || scope.container === container),
    );
  const { keyVault, storage, serviceBus, cosmos } = file.resources;
  return {
    secrets: keyVault.secrets.filter((name) => !secrets.has(name)),
    containers: storage.containers.filter((name) => !containers.has(name)),
    queues: serviceBus.queues.map((queue) => queue.name).filter((name) => !queues.has(name)),
    cosmosContainers: cosmos.databases.flatMap((database) =>
      database.containers
        .filter((container) => !cosmosGranted(database.name, container.name))
        .map((container) => ({ database: database.name, container: container.name })),
    ),
  };
}
