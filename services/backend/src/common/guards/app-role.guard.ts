import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  Logger,
  ServiceUnavailableException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { BearerChallengeException } from '../auth/bearer-challenge.exception.js';
import {
  EntraTokenVerifier,
  InvalidAccessToken,
  type VerifiedCaller,
} from '../auth/entra-token.verifier.js';
import { PUBLIC_ROUTE, REQUIRED_APP_ROLE } from '../decorators/app-role.decorator.js';

export type AuthenticatedRequest = Request & { caller?: VerifiedCaller };

/**
 * Registered globally: every route needs a verified Entra access token for this API carrying the
 * app role the route names with @RequireAppRole. A route that names none, and is not @Public,
 * is refused: forgetting the decorator closes a route, it never opens one.
 */
@Injectable()
export class AppRoleGuard implements CanActivate {
  private readonly logger = new Logger(AppRoleGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: EntraTokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const role = this.reflector.getAllAndOverride<string | undefined>(REQUIRED_APP_ROLE, targets);

    const match = /^Bearer ([^\s]+)$/i.exec(request.headers.authorization ?? '');
    if (!match) {
      this.refused(request, 401, 'no bearer token');
      throw BearerChallengeException.missing();
    }
    let caller: VerifiedCaller;
    try {
      caller = await this.verifier.verify(match[1]!);
    } catch (error) {
      if (error instanceof InvalidAccessToken) {
        this.refused(request, 401, error.message);
        throw BearerChallengeException.invalid();
      }
      this.logger.error(
        { err: (error as Error).message, cause: String((error as Error).cause ?? '') },
        'cannot verify access tokens',
      );
      throw new ServiceUnavailableException('Access tokens cannot be verified right now.');
    }
    if (!role || !caller.roles.includes(role)) {
      this.refused(request, 403, role ? `missing app role ${role}` : 'route names no app role', {
        clientId: caller.clientId,
        roles: caller.roles,
      });
      throw BearerChallengeException.missingRole(role ?? '(none declared)');
    }
    request.caller = caller;
    return true;
  }

  private refused(
    request: Request,
    status: number,
    reason: string,
    caller: Record<string, unknown> = {},
  ): void {
    this.logger.warn({ status, reason, path: request.path, ...caller }, 'request refused');
  }
}
