// A fork's first added service, for tests of what the declaration drives (rendered compose file,
// deploy scripts): one more identity, `reporter`, that reads the first storage container, calls
// nothing and exposes no API.
import { type IdentitiesFile, parseIdentities } from '@wi/identities';

type Uses = IdentitiesFile['identities'][number]['uses'];

/** The declaration with `reporter` added (handed `uses`, if given), parsed as the loader would. */
export function withReporter(file: IdentitiesFile, uses?: Uses): IdentitiesFile {
  const wider = structuredClone(file);
  const container = file.resources.storage.containers[0]!;
  wider.identities.push({
    service: 'reporter',
    managedIdentityName: 'id-reporter',
    serviceAccount: { namespace: file.namespace, name: 'reporter' },
    federatedCredential: {
      name: 'fic-reporter',
      issuer: 'aks-oidc-issuer',
      subject: `system:serviceaccount:${file.namespace}:reporter`,
      audiences: ['api://AzureADTokenExchange'],
    },
    roleAssignments: [
      {
        role: 'Storage Blob Data Reader',
        roleDefinitionId: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
        scope: { resource: 'storage', container },
      },
    ],
    ...(uses === undefined ? {} : { uses }),
  });
  return parseIdentities(wider, 'identities.json (with reporter)');
}
