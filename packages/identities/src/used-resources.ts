import type { UsedResource } from './declaration.js';

/** The name a service's environment variable carries for a resource it uses. */
export function usedResourceName(used: UsedResource): string {
  switch (used.resource) {
    case 'storage':
      return used.container;
    case 'serviceBus':
      return used.queue;
    case 'keyVault':
      return used.secret;
    case 'cosmosDatabase':
      return used.database;
    case 'cosmosContainer':
      return used.container;
  }
}

/** NAME=value for every resource a service uses: what pnpm dev, compose and the Deployments set. */
export function usedResourceEnvironment(
  uses: Readonly<Record<string, UsedResource>> | undefined,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(uses ?? {}).map(([variable, used]) => [variable, usedResourceName(used)]),
  );
}
