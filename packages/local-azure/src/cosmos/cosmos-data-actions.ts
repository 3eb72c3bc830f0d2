const ACCOUNT = 'Microsoft.DocumentDB/databaseAccounts';
const CONTAINERS = `${ACCOUNT}/sqlDatabases/containers`;

export interface CosmosRequestTarget {
  database?: string;
  container?: string;
  action: string;
  /** Cosmos refuses control-plane operations (create database/container) with an AAD token. */
  controlPlane: boolean;
}

/** Maps a Cosmos REST request to the data action native Cosmos RBAC checks for it. */
export function cosmosRequestTarget(
  method: string,
  segments: readonly string[],
  headers: Record<string, string | string[] | undefined>,
): CosmosRequestTarget {
  const database = segments[0] === 'dbs' ? segments[1] : undefined;
  const container = segments[2] === 'colls' ? segments[3] : undefined;
  const resource = segments.length % 2 === 1 ? segments.at(-1) : segments.at(-2);
  if (!database || !container) {
    // Account, databases and containers: metadata reads are data plane; writes are control plane.
    return {
      database,
      container,
      action: `${ACCOUNT}/readMetadata`,
      controlPlane: method !== 'GET' && method !== 'HEAD',
    };
  }
  if (resource === 'colls' || resource === 'pkranges') {
    return {
      database,
      container,
      action: `${ACCOUNT}/readMetadata`,
      controlPlane: method !== 'GET',
    };
  }
  if (resource === 'docs') {
    const flag = (name: string) => String(headers[name] ?? '').toLowerCase() === 'true';
    const isQuery =
      flag('x-ms-documentdb-isquery') ||
      String(headers['content-type']).startsWith('application/query+json');
    const isUpsert = flag('x-ms-documentdb-is-upsert');
    const verb =
      method === 'GET'
        ? headers['a-im'] === 'Incremental feed'
          ? 'readChangeFeed'
          : 'items/read'
        : method === 'POST'
          ? isQuery
            ? 'executeQuery'
            : isUpsert
              ? 'items/upsert'
              : 'items/create'
          : method === 'PUT'
            ? 'items/replace'
            : method === 'PATCH'
              ? 'items/replace'
              : 'items/delete';
    return { database, container, action: `${CONTAINERS}/${verb}`, controlPlane: false };
  }
  return {
    database,
    container,
    action: `${CONTAINERS}/${method === 'GET' ? 'items/read' : 'items/replace'}`,
    controlPlane: false,
  };
}
