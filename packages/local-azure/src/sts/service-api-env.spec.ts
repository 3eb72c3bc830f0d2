import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { localApiAppId, parseIdentities } from '../identities/index.js';
import { serviceApiEnv } from './service-api-env.js';

const committed = parseIdentities(
  JSON.parse(await readFile(new URL('../../../../infra/identities.json', import.meta.url), 'utf8')),
);

describe('serviceApiEnv', () => {
  it('gives the callee its audience and the caller the scope of each API it calls', () => {
    expect(serviceApiEnv(committed, 'backend')).toEqual({
      API_AUDIENCE: localApiAppId('backend'),
    });
    expect(serviceApiEnv(committed, 'frontend')).toEqual({
      BACKEND_API_SCOPE: `api://${localApiAppId('backend')}/.default`,
    });
  });

  it('names a hyphenated callee with underscores and gives a service with no api nothing', () => {
    const file = structuredClone(committed);
    file.identities[1]!.service = 'doc-store';
    file.identities[0]!.calls = [{ service: 'doc-store', appRole: 'Documents.Read' }];
    expect(serviceApiEnv(parseIdentities(file), 'frontend')).toEqual({
      DOC_STORE_API_SCOPE: `api://${localApiAppId('doc-store')}/.default`,
    });
    const alone = structuredClone(committed);
    delete alone.identities[0]!.calls;
    expect(serviceApiEnv(parseIdentities(alone), 'frontend')).toEqual({});
  });
});
