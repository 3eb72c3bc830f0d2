import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, NestFactory } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BearerChallengeFilter } from '../filters/bearer-challenge.filter.js';
import {
  EntraTokenVerifier,
  InvalidAccessToken,
  TokenVerificationUnavailable,
  type VerifiedCaller,
} from '../auth/entra-token.verifier.js';
import { DOCUMENTS_READ, Public, RequireAppRole } from '../decorators/app-role.decorator.js';
import { AppRoleGuard } from './app-role.guard.js';

@Controller()
class RoutesController {
  @Get('open')
  @Public()
  open() {
    return { ok: true };
  }

  @Get('documents')
  @RequireAppRole(DOCUMENTS_READ)
  documents() {
    return { items: [] };
  }

  @Get('forgotten')
  forgotten() {
    return { secret: 'must never be served' };
  }
}

/** Tokens are names here: the verifier's own spec covers what makes a real one valid. */
const callers: Record<string, VerifiedCaller | Error> = {
  reader: { clientId: 'frontend', roles: [DOCUMENTS_READ] },
  writer: { clientId: 'frontend', roles: ['Documents.Write'] },
  expired: new InvalidAccessToken('ERR_JWT_EXPIRED'),
  unverifiable: new TokenVerificationUnavailable('discovery failed'),
};

@Module({
  controllers: [RoutesController],
  providers: [
    {
      provide: EntraTokenVerifier,
      useValue: {
        verify: async (token: string) => {
          const caller = callers[token] ?? new InvalidAccessToken('unknown');
          if (caller instanceof Error) throw caller;
          return caller;
        },
      },
    },
    { provide: APP_GUARD, useClass: AppRoleGuard },
    { provide: APP_FILTER, useClass: BearerChallengeFilter },
  ],
})
class TestModule {}

describe('AppRoleGuard', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    app = await NestFactory.create(TestModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  afterAll(() => app.close());

  const get = (path: string, token?: string) =>
    fetch(`${url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('lets a caller with the route’s app role through', async () => {
    expect((await get('/documents', 'reader')).status).toBe(200);
  });

  it('answers 401 with a Bearer challenge without a token, or with one that does not verify', async () => {
    const none = await get('/documents');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="backend"');
    const expired = await get('/documents', 'expired');
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    const basic = await fetch(`${url}/documents`, { headers: { authorization: 'Basic eDp5' } });
    expect(basic.status).toBe(401);
  });

  it('answers 403 insufficient_scope to a verified caller without the role', async () => {
    const response = await get('/documents', 'writer');
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
    expect(await response.json()).toMatchObject({
      message: expect.stringMatching(/MissingAppRole/),
    });
  });

  it('refuses a route that declares no role, even to a valid caller: it fails closed', async () => {
    expect((await get('/forgotten', 'reader')).status).toBe(403);
    expect((await get('/forgotten')).status).toBe(401);
  });

  it('answers 503, never the data, when tokens cannot be verified', async () => {
    expect((await get('/documents', 'unverifiable')).status).toBe(503);
  });

  it('leaves a @Public route open', async () => {
    expect((await get('/open')).status).toBe(200);
  });
});
