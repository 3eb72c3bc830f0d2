import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
  Logger,
} from '@nestjs/common';
import type { Request } from 'express';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses state-changing requests another site makes a browser send, before the body is read:
 * `Sec-Fetch-Site` must be same-origin (or none: typed or bookmarked by the user) where the
 * browser sends it, else `Origin` must be this site's. A request with neither header does not
 * come from a modern browser's cross-site form; the signed double-submit CSRF token still applies
 * to it. Registered globally (APP_GUARD), so a new POST route is covered without a decorator.
 */
@Injectable()
export class SameOriginGuard implements CanActivate {
  private readonly logger = new Logger(SameOriginGuard.name);

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    if (SAFE_METHODS.has(request.method)) return true;
    const reason = crossOriginReason(request);
    if (!reason) return true;
    this.logger.warn(
      { reason, method: request.method, path: request.path },
      'cross-origin request refused',
    );
    throw new ForbiddenException(
      'Cross-origin requests are not accepted; use the form on this site.',
    );
  }
}

/** Why the request is cross-origin, or undefined when it is not. */
export function crossOriginReason(request: Pick<Request, 'headers'>): string | undefined {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string') {
    return site === 'same-origin' || site === 'none' ? undefined : `Sec-Fetch-Site: ${site}`;
  }
  const origin = request.headers.origin;
  if (origin === undefined) return undefined;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return `Origin: ${origin.slice(0, 100)}`;
  }
  // Behind the ingress, Host is the public host name (TLS ends there, so compare hosts, not
  // schemes); X-Forwarded-Host is not trusted: a client can send it.
  return host !== '' && host === request.headers.host
    ? undefined
    : `Origin: ${origin.slice(0, 100)}`;
}
