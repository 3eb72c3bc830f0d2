import type { ServiceIdentity } from './declaration.js';

/**
 * The services, each after every service whose API it calls (`calls`), so that a caller starts
 * with its callee's URL known: the order `pnpm dev` and the test stack start them in. A loop of
 * calls has no such order and is refused, naming it.
 */
export function startOrder<T extends Pick<ServiceIdentity, 'service' | 'calls'>>(
  identities: readonly T[],
): T[] {
  const ordered: T[] = [];
  const visit = (identity: T, path: readonly string[]) => {
    if (ordered.includes(identity)) return;
    if (path.includes(identity.service)) {
      throw new Error(`the declaration's calls loop: ${[...path, identity.service].join(' → ')}`);
    }
    for (const call of identity.calls ?? []) {
      const callee = identities.find((candidate) => candidate.service === call.service);
      if (callee) visit(callee, [...path, identity.service]);
    }
    ordered.push(identity);
  };
  for (const identity of identities) visit(identity, []);
  return ordered;
}
