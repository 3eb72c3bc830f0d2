// The declaration has two schemas: the loader's (zod, in @wi/identities, also written out as
// infra/identities.schema.json) and Bicep's (infra/modules/types.bicep, which types the
// loadJsonContent of main.bicep). Both are flattened here to the same list of property paths, each
// marked optional or not, and the two lists must be equal: a field added to one and not the
// other fails this test, not a deployment.
import { identitiesJsonSchema } from '@wi/identities';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileInfra, skipBicepTests } from './support/bicep-cli.js';

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
  // infra/modules/types.bicep as Bicep compiles it: its exported types are the template's
  // definitions, the ones main.bicep imports (the build every infra test shares).
  let compiled: { definitions: Record<string, Schema> };
  beforeAll(async () => {
    const types = (await compileInfra()).texts.get('modules/types.json');
    expect(types, 'modules/types.json compiled').toBeDefined();
    compiled = JSON.parse(types!) as typeof compiled;
  }, 300_000);

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
