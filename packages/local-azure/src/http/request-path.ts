/**
 * A request target parsed once, strictly: what a plane authorizes is built from these segments,
 * and what it forwards is rebuilt from the same segments, so the two cannot differ.
 */
export interface ParsedRequestTarget {
  /** Decoded path segments; none is empty, `.` or `..`. */
  segments: string[];
  query: URLSearchParams;
}

export class MalformedRequestTarget extends Error {
  override name = 'MalformedRequestTarget';
}

/**
 * Parses an origin-form request target (`/a/b?x=y`). Refuses what a proxy and its back end could
 * read differently: anything but a path starting with one `/`, malformed percent-encoding, empty
 * segments (`//`), dot segments (raw or percent-encoded), control characters, a fragment, and a
 * query key given twice. A trailing slash is dropped.
 */
export function parseRequestTarget(rawTarget: string | undefined): ParsedRequestTarget {
  const raw = rawTarget ?? '';
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.includes('#')) {
    throw new MalformedRequestTarget('The request target is not an absolute path.');
  }
  const queryAt = raw.indexOf('?');
  const rawPath = queryAt === -1 ? raw : raw.slice(0, queryAt);
  const rawQuery = queryAt === -1 ? '' : raw.slice(queryAt + 1);
  const parts = rawPath.slice(1).split('/');
  if (parts.at(-1) === '') parts.pop();
  const segments = parts.map((part) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(part);
    } catch {
      throw new MalformedRequestTarget('The request path has malformed percent-encoding.');
    }
    if (decoded === '' || decoded === '.' || decoded === '..') {
      throw new MalformedRequestTarget('The request path has an empty or dot segment.');
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f\\]/.test(decoded)) {
      throw new MalformedRequestTarget('The request path has a control character or backslash.');
    }
    return decoded;
  });
  const query = new URLSearchParams();
  for (const pair of rawQuery ? rawQuery.split('&') : []) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const [key, value] = eq === -1 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    let k: string;
    let v: string;
    try {
      k = decodeURIComponent(key.replace(/\+/g, ' ')).toLowerCase();
      v = decodeURIComponent(value.replace(/\+/g, ' '));
    } catch {
      throw new MalformedRequestTarget('The query string has malformed percent-encoding.');
    }
    if (query.has(k)) throw new MalformedRequestTarget(`The query parameter '${k}' is repeated.`);
    query.set(k, v);
  }
  return { segments, query };
}

/** The request target rebuilt from parsed parts: what is forwarded to a back end. */
export function formatRequestTarget(segments: readonly string[], query: URLSearchParams): string {
  const path = `/${segments.map(encodePathSegment).join('/')}`;
  const search = query.toString();
  return search ? `${path}?${search}` : path;
}

function encodePathSegment(segment: string): string {
  // Keep the characters Azure SDKs leave unescaped in names; escape everything else.
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
