// The declaration has two schemas: the loader's (zod, in @wi/identities, also written out as
// infra/identities.schema.json) and Bicep's (infra/modules/types.bicep, which types the
// loadJsonContent of main.bicep). Both are flattened here to the same list of property paths, each
// marked optional or not, and the two lists must be equal: a field added to one and not the
// other fails this test, not a deployment.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { identitiesJsonSchema } from '@wi/identities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bicep, infraDir, skipBicepTests } from './support/bicep-cli.js';

type Schema = Record<string, unknown> & {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  oneOf?: Schema[];
  anyOf?: Schema[];
  const?: unknown;
  $ref?: string;
  nullable?: boolean;
  discriminator?: { propertyName: string; mapping: Record<string, Schema> };
};

/** `a.b?`, `a.list[]`, `a.map{}`, `a.scope<storage>.container` for every property. */
function jsonSchemaPaths(schema: Schema, path = ''): string[] {
  const union = schema.oneOf ?? schema.anyOf;
  if (union) {
    return union.flatMap((variant) => {
      const tag = Object.values(variant.properties ?? {}).find((p) => p.const !== undefined)?.const;
      return jsonSchemaPaths(variant, `${path}<${String(tag)}>`);
    });
  }
  if (schema.type === 'array' && schema.items) return jsonSchemaPaths(schema.items, `${path}[]`);
  if (schema.type === 'object' && schema.properties) {
    return Object.entries(schema.properties).flatMap(([name, property]) => {
      const here = `${path}.${name}${schema.required?.includes(name) ? '' : '?'}`;
      return [here, ...jsonSchemaPaths(property, here)];
    });
  }
  if (schema.type === 'object' && typeof schema.additionalProperties === 'object') {
    return jsonSchemaPaths(schema.additionalProperties, `${path}{}`);
  }
  return [];
}

function bicepPaths(schema: Schema, definitions: Record<string, Schema>, path = ''): string[] {
  const resolved = schema.$ref
    ? { ...definitions[schema.$ref.replace('#/definitions/', '')]!, nullable: schema.nullable }
    : schema;
  if (resolved.discriminator) {
    return Object.entries(resolved.discriminator.mapping).flatMap(([tag, variant]) =>
      bicepPaths(variant, definitions, `${path}<${tag}>`),
    );
  }
  if (resolved.type === 'array' && resolved.items) {
    return bicepPaths(resolved.items, definitions, `${path}[]`);
  }
  if (resolved.type === 'object') {
    const properties = Object.entries(resolved.properties ?? {}).flatMap(([name, property]) => {
      const here = `${path}.${name}${property.nullable === true ? '?' : ''}`;
      return [here, ...bicepPaths(property, definitions, here)];
    });
    const values =
      typeof resolved.additionalProperties === 'object'
        ? bicepPaths(resolved.additionalProperties, definitions, `${path}{}`)
        : [];
    return [...properties, ...values];
  }
  return [];
}

describe.skipIf(skipBicepTests)('the declaration’s Bicep types', () => {
  let work: string;
  let compiled: { definitions: Record<string, Schema> };
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'declaration-types-'));
    const types = relative(work, join(infraDir, 'modules', 'types.bicep')).replaceAll('\\', '/');
    writeFileSync(
      join(work, 'probe.bicep'),
      `import { identitiesFile } from '${types}'\nparam declaration identitiesFile\noutput namespace string = declaration.namespace\n`,
    );
    const run = await bicep(['build', 'probe.bicep', '--outfile', 'probe.json'], work);
    expect(run.status, run.otherOutput.join('\n')).toBe(0);
    compiled = JSON.parse(readFileSync(join(work, 'probe.json'), 'utf8')) as typeof compiled;
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('have exactly the loader’s properties, optional where it says optional', () => {
    const loader = jsonSchemaPaths(identitiesJsonSchema() as Schema).sort();
    const templates = bicepPaths(compiled.definitions.identitiesFile!, compiled.definitions).sort();
    expect(loader.length).toBeGreaterThan(40);
    expect(templates).toEqual(loader);
  });

  it('would notice a field the loader has and Bicep lacks', () => {
    const loader = jsonSchemaPaths(identitiesJsonSchema() as Schema);
    const templates = bicepPaths(compiled.definitions.identitiesFile!, compiled.definitions);
    const withoutUses = templates.filter((path) => !path.includes('.uses'));
    expect(withoutUses.sort()).not.toEqual(loader.sort());
  });
});
