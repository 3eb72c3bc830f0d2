// k8s/base/<service>/uses-patch.yaml: the names a generated service's Deployment gets, as plain
// env entries of a strategic-merge patch, written from the declaration's `uses`. Written, not
// typed: a role edit in infra/identities.json is followed by `pnpm new:service --sync`, and
// `pnpm check:wiring` names any Deployment whose names differ from the declaration.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { usedResourceEnvironment } from '@wi/identities';
import { stringify } from 'yaml';

export const USES_PATCH = 'uses-patch.yaml';

export function usesPatch(identity) {
  const env = Object.entries(usedResourceEnvironment(identity.uses))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value }));
  const patch = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: identity.service },
    spec: {
      template: {
        spec: {
          // An empty env list merges nothing: the Deployment's own entries stay.
          containers: [{ name: identity.service, env }],
        },
      },
    },
  };
  return (
    `# Written by \`pnpm new:service --sync\` from infra/identities.json (${identity.service}'s\n` +
    '# `uses`): the names it uses, merged into its Deployment. Never edit it by hand.\n' +
    stringify(patch, { singleQuote: true })
  );
}

/**
 * Rewrites uses-patch.yaml of every service whose Kustomize base has one (the generated services;
 * the frontend's and backend's names are in their Deployments). Returns the files that changed.
 */
export function syncUses(root, declaration) {
  const changed = [];
  for (const identity of declaration.identities) {
    const file = join(root, 'k8s', 'base', identity.service, USES_PATCH);
    if (!existsSync(file)) continue;
    const text = usesPatch(identity);
    if (readFileSync(file, 'utf8') === text) continue;
    writeFileSync(file, text);
    changed.push(file);
  }
  return changed;
}
