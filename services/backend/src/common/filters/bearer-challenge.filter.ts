import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { BearerChallengeException } from '../auth/bearer-challenge.exception.js';

/** Sends a refused request's WWW-Authenticate challenge with its JSON body. */
@Catch(BearerChallengeException)
export class BearerChallengeFilter implements ExceptionFilter {
  catch(exception: BearerChallengeException, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    response
      .status(exception.getStatus())
      .setHeader('www-authenticate', exception.challenge)
      .setHeader('cache-control', 'no-store')
      .json(exception.getResponse());
  }
}
