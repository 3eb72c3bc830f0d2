// k8s/base/<service>/uses.env: the names a generated service's Deployment gets (envFrom its
// `<service>-uses` ConfigMap), written from the declaration's `uses`. Written, not typed: a role
// edit in infra/identities.json is followed by `pnpm new:service --sync`, and `pnpm check:wiring`
// names any Deployment whose names differ from the declaration.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { usedResourceEnvironment } from '@wi/identities';

export const USES_ENV_HEADER = (service) =>
  `# Written by \`pnpm new:service --sync\` from infra/identities.json (${service}'s \`uses\`). Do not edit.\n`;

export function usesEnv(identity) {
  const lines = Object.entries(usedResourceEnvironment(identity.uses))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([variable, value]) => `${variable}=${value}\n`);
  return USES_ENV_HEADER(identity.service) + lines.join('');
}

/**
 * Rewrites uses.env of every service whose Kustomize base has one (the generated services; the
 * frontend's and backend's names reach them through their Deployments' env). Returns the files
 * that changed.
 */
export function syncUses(root, declaration) {
  const changed = [];
  for (const identity of declaration.identities) {
    const file = join(root, 'k8s', 'base', identity.service, 'uses.env');
    if (!existsSync(file)) continue;
    const text = usesEnv(identity);
    if (readFileSync(file, 'utf8') === text) continue;
    writeFileSync(file, text);
    changed.push(file);
  }
  return changed;
}
