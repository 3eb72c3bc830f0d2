import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  deploySubject,
  identitiesJsonSchema,
  identitiesWith,
  localClientId,
  localPrincipalId,
  parseIdentities,
} from './index.js';

const committed = JSON.parse(
  await readFile(new URL('../../../infra/identities.json', import.meta.url), 'utf8'),
) as {
  identities: Array<Record<string, unknown> & { federatedCredential: Record<string, unknown> }>;
  deployIdentities: Array<
    Record<string, unknown> & { federatedCredential: Record<string, unknown> }
  >;
};

describe('parseIdentities', () => {
  it('accepts the committed identities file', () => {
    const file = parseIdentities(committed);
    const workloads = file.identities.filter((identity) => identity.feature === undefined);
    expect(workloads.map((i) => i.service)).toEqual(['frontend', 'backend']);
  });

  it('names a feature that is not a name', () => {
    const broken = structuredClone(committed);
    broken.identities[0]!.feature = 'Auto Scaling';
    expect(() => parseIdentities(broken)).toThrow(
      /^infra\/identities\.json: identities\[0\]\.feature: /,
    );
  });

  it('names the JSON path of a malformed subject', () => {
    const broken = structuredClone(committed);
    broken.identities[1]!.federatedCredential.subject = 'backend';
    expect(() => parseIdentities(broken)).toThrow(
      'infra/identities.json: identities[1].federatedCredential.subject: must look like system:serviceaccount:<namespace>:<name>',
    );
  });

  it('rejects duplicate services', () => {
    const broken = structuredClone(committed);
    const copy = broken.identities.push(structuredClone(broken.identities[0]!)) - 1;
    expect(() => parseIdentities(broken)).toThrow(
      `infra/identities.json: identities[${copy}].service: duplicate service 'frontend'`,
    );
  });
});

describe('deploy identities', () => {
  it('declares the GitHub deploy identity apart from the workloads', () => {
    const file = parseIdentities(committed);
    expect(file.deployIdentities?.map((i) => i.name)).toEqual(['github-deploy']);
    expect(file.identities.map((i) => i.service)).not.toContain('github-deploy');
  });

  it("trusts one GitHub environment of the deployment's repository, never a pull request", () => {
    const [deploy] = parseIdentities(committed).deployIdentities!;
    expect(deploySubject(deploy!, 'contoso/doc-intake')).toBe(
      'repo:contoso/doc-intake:environment:production',
    );
    const pinned = {
      ...deploy!,
      federatedCredential: { ...deploy!.federatedCredential, repository: 'a/b' },
    };
    expect(deploySubject(pinned, 'contoso/doc-intake')).toBe('repo:a/b:environment:production');
  });

  it("refuses an issuer other than GitHub Actions' and a scope other than the resource group", () => {
    const wrongIssuer = structuredClone(committed);
    wrongIssuer.deployIdentities[0]!.federatedCredential.issuer =
      'https://token.actions.example.com';
    expect(() => parseIdentities(wrongIssuer)).toThrow(
      /^infra\/identities\.json: deployIdentities\[0\]\.federatedCredential\.issuer: /,
    );
    const wrongScope = structuredClone(committed);
    (wrongScope.deployIdentities[0]!.roleAssignments as Array<{ scope: unknown }>)[0]!.scope = {
      resource: 'subscription',
    };
    expect(() => parseIdentities(wrongScope)).toThrow(
      /^infra\/identities\.json: deployIdentities\[0\]\.roleAssignments\[0\]\.scope\.resource: /,
    );
  });
});

describe('identitiesWith', () => {
  // The backend as if it belonged to an optional feature; whatever else has a feature is off.
  const json = structuredClone(committed);
  json.identities[1]!.feature = 'night-batch';
  const file = parseIdentities(json);
  const services = (features?: Parameters<typeof identitiesWith>[1]) =>
    identitiesWith(file, features).identities.map((i) => i.service);

  it('leaves out the identities of features that are off, by default all of them', () => {
    expect(services()).toEqual(['frontend']);
    expect(services([])).toEqual(['frontend']);
    expect(services(['night-batch'])).toEqual(['frontend', 'backend']);
    expect(identitiesWith(file).namespace).toBe(file.namespace);
  });
});

describe('local ids', () => {
  it('are stable GUIDs, distinct per identity and between client and principal', () => {
    const a = { managedIdentityName: 'id-frontend' };
    const b = { managedIdentityName: 'id-backend' };
    expect(localClientId(a)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(localClientId(a)).toBe(localClientId({ ...a }));
    expect(
      new Set([localClientId(a), localClientId(b), localPrincipalId(a), localPrincipalId(b)]).size,
    ).toBe(4);
  });
});

describe('infra/identities.schema.json', () => {
  it('is the schema the loader enforces (regenerate: pnpm identities schema > infra/identities.schema.json)', async () => {
    const schemaFile = JSON.parse(
      await readFile(new URL('../../../infra/identities.schema.json', import.meta.url), 'utf8'),
    ) as unknown;
    expect(schemaFile).toEqual(identitiesJsonSchema());
  });
});
