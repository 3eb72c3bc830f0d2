import { describe, expect, it } from 'vitest';
import { cosmosOperation } from './http-span-details.js';

const headers =
  (values: Record<string, string> = {}) =>
  (name: string) =>
    values[name];

describe('cosmosOperation', () => {
  it('names the worker upsert and the API reads after the database operation', () => {
    const docs = '/dbs/intake/colls/documents/docs';
    expect(cosmosOperation('POST', docs, headers({ 'x-ms-documentdb-is-upsert': 'true' }))).toEqual(
      {
        name: 'upsert documents',
        attributes: {
          'db.system.name': 'azure.cosmosdb',
          'db.namespace': 'intake',
          'db.collection.name': 'documents',
          'db.operation.name': 'upsert',
        },
      },
    );
    expect(cosmosOperation('GET', `${docs}/6f1c2a8e`, headers())?.name).toBe('read documents');
    expect(
      cosmosOperation('POST', docs, headers({ 'content-type': 'application/query+json' }))?.name,
    ).toBe('query documents');
    expect(
      cosmosOperation('POST', docs, headers({ 'x-ms-cosmos-is-query-plan-request': 'True' }))?.name,
    ).toBe('query_plan documents');
    expect(cosmosOperation('GET', '/dbs/intake/colls/documents', headers())?.name).toBe(
      'read_container documents',
    );
    expect(cosmosOperation('GET', '/dbs/intake/colls/documents/pkranges', headers())?.name).toBe(
      'read_partition_key_ranges documents',
    );
  });

  it('leaves every other request alone (and never puts a document id in a name)', () => {
    expect(cosmosOperation('GET', '/', headers())).toBeUndefined();
    expect(cosmosOperation('PUT', '/uploads/6f1c2a8e?comp=block', headers())).toBeUndefined();
    expect(
      cosmosOperation('DELETE', '/dbs/intake/colls/documents/docs/6f1c2a8e', headers())?.name,
    ).toBe('delete documents');
  });
});
