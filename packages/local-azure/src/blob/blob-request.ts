import type { ParsedRequestTarget } from '../http/request-path.js';

const BLOB_SERVICE = 'Microsoft.Storage/storageAccounts/blobServices';

/** What a Blob request is, for RBAC, and exactly what is forwarded to Azurite for it. */
export type BlobRequestTarget =
  | {
      ok: true;
      container?: string;
      blob?: string;
      action: string;
      segments: string[];
      query: URLSearchParams;
    }
  | { ok: false; status: number; code: string; message: string };

/** Azure's container naming rule: 3–63 lowercase letters, digits and single hyphens. */
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

const bad = (status: number, code: string, message: string): BlobRequestTarget => ({
  ok: false,
  status,
  code,
  message,
});

/**
 * Maps a Blob REST request to the RBAC permission Azure checks for it: container operations use
 * the containers/* actions, blob operations the containers/blobs/* data actions, and operations
 * on the account (service properties, stats, account information, listing containers) an
 * account-scoped action that no container-scoped role grants. Anything this table does not name
 * is refused: batch (whose sub-requests carry their own paths), copy from a URL, unknown restype.
 */
export function blobRequestTarget(
  method: string,
  target: ParsedRequestTarget,
  headers: Record<string, string | string[] | undefined>,
  account: string,
): BlobRequestTarget {
  const { segments, query } = target;
  if (segments[0] !== account) {
    return bad(
      400,
      'InvalidUri',
      'The requested URI does not represent any resource on the server.',
    );
  }
  if (!['GET', 'HEAD', 'PUT', 'DELETE'].includes(method)) {
    return bad(405, 'UnsupportedHttpVerb', "The resource doesn't support specified Http Verb.");
  }
  const [, container, ...blobParts] = segments;
  const blob = blobParts.length > 0 ? blobParts.join('/') : undefined;
  const restype = query.get('restype');
  const comp = query.get('comp');
  const isRead = method === 'GET' || method === 'HEAD';
  const allowed = (action: string, scope: { container?: string; blob?: string }) =>
    ({ ok: true, ...scope, action, segments, query }) as const;

  if (
    comp === 'batch' ||
    comp === 'query' ||
    comp === 'copy' ||
    headers['x-ms-copy-source'] !== undefined
  ) {
    return bad(
      403,
      'AuthorizationPermissionMismatch',
      'This request is not authorized to perform this operation using this permission. Batch, query and copy operations are not supported by the local emulator.',
    );
  }
  if (restype === 'service' || restype === 'account' || container === undefined) {
    if (container !== undefined) {
      return bad(
        400,
        'InvalidQueryParameterValue',
        `Value for one of the query parameters specified in the request URI is invalid. restype=${restype ?? ''} names the account, not a container.`,
      );
    }
    return allowed(`${BLOB_SERVICE}/${isRead ? 'read' : 'write'}`, {});
  }
  if (!CONTAINER_NAME.test(container)) {
    return bad(
      400,
      'InvalidResourceName',
      'The specifed resource name contains invalid characters.',
    );
  }
  if (restype !== null && restype !== 'container') {
    return bad(
      400,
      'InvalidQueryParameterValue',
      'Value for one of the query parameters specified in the request URI is invalid.',
    );
  }
  if (restype === 'container') {
    if (blob !== undefined) {
      return bad(
        400,
        'InvalidQueryParameterValue',
        'restype=container names a container, not a blob.',
      );
    }
    if (comp === 'list') return allowed(`${BLOB_SERVICE}/containers/blobs/read`, { container });
    const verb = isRead ? 'read' : method === 'DELETE' ? 'delete' : 'write';
    return allowed(`${BLOB_SERVICE}/containers/${verb}`, { container });
  }
  if (blob === undefined || blob.length > 1024) {
    return bad(
      400,
      'InvalidUri',
      'The requested URI does not represent any resource on the server.',
    );
  }
  const verb = isRead
    ? 'read'
    : method === 'DELETE'
      ? 'delete'
      : comp === 'appendblock'
        ? 'add/action'
        : 'write';
  return allowed(`${BLOB_SERVICE}/containers/blobs/${verb}`, { container, blob });
}
