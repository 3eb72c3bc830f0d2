const BLOB_SERVICE = 'Microsoft.Storage/storageAccounts/blobServices';

export interface BlobRequestTarget {
  container?: string;
  blob?: string;
  action: string;
}

/**
 * Maps a Blob REST request to the RBAC permission Azure checks for it (container operations use
 * the containers/* actions, blob operations the containers/blobs/* data actions).
 */
export function blobRequestTarget(method: string, url: URL, account: string): BlobRequestTarget {
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (segments[0] === account) segments.shift();
  const [container, ...blobParts] = segments;
  const blob = blobParts.length > 0 ? blobParts.join('/') : undefined;
  const isRead = method === 'GET' || method === 'HEAD';
  if (!container) return { action: `${BLOB_SERVICE}/containers/read` };
  if (!blob) {
    if (url.searchParams.get('comp') === 'list') {
      return { container, action: `${BLOB_SERVICE}/containers/blobs/read` };
    }
    const verb = isRead ? 'read' : method === 'DELETE' ? 'delete' : 'write';
    return { container, action: `${BLOB_SERVICE}/containers/${verb}` };
  }
  const comp = url.searchParams.get('comp');
  const verb = isRead
    ? 'read'
    : method === 'DELETE'
      ? 'delete'
      : comp === 'appendblock'
        ? 'add/action'
        : 'write';
  return { container, blob, action: `${BLOB_SERVICE}/containers/blobs/${verb}` };
}
