import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadIdentities, type IdentitiesFile } from '@wi/identities';
import { describe, expect, it } from 'vitest';

// The local cloud is a generic local Azure: everything it creates comes from the declaration it is
// given at start. This keeps it that way: no name this app declares (namespace, services, managed
// identities, service accounts, vault, secrets, containers, queues, databases) appears in its code.
const root = fileURLToPath(new URL('../..', import.meta.url));
const sourceDir = join(root, 'packages/local-azure/src');

function declaredNames(file: IdentitiesFile): Set<string> {
  const { resources } = file;
  const names = [
    file.namespace,
    resources.keyVault.localName,
    ...resources.keyVault.secrets,
    ...resources.storage.containers,
    ...resources.serviceBus.queues.map((queue) => queue.name),
    ...resources.cosmos.databases.flatMap((db) => [db.name, ...db.containers.map((c) => c.name)]),
    ...file.identities.flatMap((identity) => [
      identity.service,
      identity.managedIdentityName,
      identity.serviceAccount.name,
      identity.federatedCredential.name,
    ]),
    ...file.deployIdentities.flatMap((identity) => [
      identity.name,
      identity.managedIdentityName,
      identity.federatedCredential.name,
    ]),
  ];
  return new Set(names);
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .filter((entry) => !entry.name.endsWith('.spec.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

// Azure's own host names and protocol words (Cosmos's `Documents`) may equal an app's resource
// names: hosts are taken out, and the match is case-sensitive (declared names are lowercase).
const AZURE_HOSTS = /\.(documents|blob|vault|servicebus)\.(azure\.com|azure\.net|windows\.net)/g;

function mentions(text: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![A-Za-z0-9_-])${escaped}(?![A-Za-z0-9_-])`).test(text);
}

describe('the local cloud knows nothing of this app', () => {
  it('names none of the declared names in its code (it creates them from the declaration)', async () => {
    const names = declaredNames(await loadIdentities(join(root, 'infra/identities.json')));
    expect(names.size).toBeGreaterThan(10);
    const found: string[] = [];
    for (const path of await sourceFiles(sourceDir)) {
      const text = (await readFile(path, 'utf8')).replace(AZURE_HOSTS, '');
      for (const name of names) {
        if (mentions(text, name)) found.push(`${relative(root, path)}: ${name}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('would see such a name if one were there', () => {
    expect(mentions("const vault = 'kv-intake';", 'kv-intake')).toBe(true);
    expect(mentions('a kv-intake-2 vault', 'kv-intake')).toBe(false);
    expect(
      mentions('https://<account>.documents.azure.com'.replace(AZURE_HOSTS, ''), 'documents'),
    ).toBe(false);
  });
});
