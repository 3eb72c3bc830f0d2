import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Attributes, Span } from '@opentelemetry/api';

/**
 * Names the HTTP instrumentation's spans after what they are, through its
 * `applyCustomAttributesOnSpan` hook (no spans of our own):
 * - incoming: `POST /uploads`, `GET /documents/:id`, with `http.route`, from the route Express
 *   (under Nest) matched;
 * - outgoing to Cosmos DB: `upsert documents`, `query documents`, ... with the database
 *   attributes. The Cosmos DB SDK creates no spans of its own; its REST calls are plain HTTPS.
 */
export function describeHttpSpan(
  span: Span,
  request: ClientRequest | IncomingMessage,
  _response?: IncomingMessage | ServerResponse,
): void {
  if (isClientRequest(request)) {
    const cosmos = cosmosOperation(request.method, request.path, (name) => request.getHeader(name));
    if (cosmos) {
      span.setAttributes(cosmos.attributes);
      span.updateName(cosmos.name);
    }
    return;
  }
  const route = (request as IncomingMessage & { route?: { path?: unknown } }).route?.path;
  if (typeof route === 'string' && request.method) {
    span.setAttribute('http.route', route);
    span.updateName(`${request.method} ${route}`);
  }
}

function isClientRequest(request: ClientRequest | IncomingMessage): request is ClientRequest {
  return typeof (request as ClientRequest).getHeader === 'function';
}

/** A Cosmos DB REST call (`/dbs/{db}/colls/{container}/docs[/{id}]`) as a database operation. */
export function cosmosOperation(
  method: string,
  path: string,
  header: (name: string) => unknown,
): { name: string; attributes: Attributes } | undefined {
  const match = /^\/dbs\/([^/?]+)(?:\/colls\/([^/?]+)(?:\/(docs|pkranges)(?:\/[^/?]+)?)?)?/.exec(
    path,
  );
  if (!match) return undefined;
  const [whole, database, container, resource] = match;
  const byId = resource !== undefined && whole.split('/').length === 7;
  const flag = (name: string) => String(header(name) ?? '').toLowerCase() === 'true';
  let operation: string;
  const isQuery =
    flag('x-ms-documentdb-isquery') ||
    String(header('content-type') ?? '').includes('application/query+json');
  if (resource === 'docs' && method === 'POST')
    operation = flag('x-ms-cosmos-is-query-plan-request')
      ? 'query_plan'
      : isQuery
        ? 'query'
        : flag('x-ms-documentdb-is-upsert')
          ? 'upsert'
          : 'create';
  else if (resource === 'docs')
    operation =
      (
        {
          GET: byId ? 'read' : 'read_all',
          PUT: 'replace',
          DELETE: 'delete',
          PATCH: 'patch',
        } as const
      )[method as 'GET'] ?? method.toLowerCase();
  else if (resource === 'pkranges') operation = 'read_partition_key_ranges';
  else operation = container ? 'read_container' : 'read_database';
  const target = container ?? database!;
  return {
    name: `${operation} ${target}`,
    attributes: {
      'db.system.name': 'azure.cosmosdb',
      'db.namespace': decodeURIComponent(database!),
      ...(container ? { 'db.collection.name': decodeURIComponent(container) } : {}),
      'db.operation.name': operation,
    },
  };
}
