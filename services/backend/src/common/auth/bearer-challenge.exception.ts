import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * A refusal with the RFC 6750 challenge a client acts on: 401 without a token or with one that
 * does not verify (error="invalid_token"), 403 when the token lacks the route's app role
 * (error="insufficient_scope"). The description is ours, never the token's content.
 */
export class BearerChallengeException extends HttpException {
  readonly challenge: string;

  constructor(
    status: HttpStatus.UNAUTHORIZED | HttpStatus.FORBIDDEN,
    message: string,
    error?: 'invalid_token' | 'insufficient_scope',
  ) {
    super({ statusCode: status, message }, status);
    const parts = ['realm="backend"'];
    if (error)
      parts.push(`error="${error}"`, `error_description="${message.replaceAll('"', "'")}"`);
    this.challenge = `Bearer ${parts.join(', ')}`;
  }

  static missing(): BearerChallengeException {
    return new BearerChallengeException(
      HttpStatus.UNAUTHORIZED,
      'This API needs an Entra access token for it: Authorization: Bearer <token>.',
    );
  }

  static invalid(): BearerChallengeException {
    return new BearerChallengeException(
      HttpStatus.UNAUTHORIZED,
      'The access token is not valid for this API.',
      'invalid_token',
    );
  }

  static missingRole(role: string): BearerChallengeException {
    return new BearerChallengeException(
      HttpStatus.FORBIDDEN,
      `MissingAppRole: the caller is not assigned the app role ${role} of this API.`,
      'insufficient_scope',
    );
  }
}
