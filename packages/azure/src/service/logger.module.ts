import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';

/**
 * Paths pino replaces with [Redacted]: credentials in headers, and any field a careless log call
 * might pass that holds a secret value, token or key. Kept here so both services share one list.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.client_assertion',
  '*.secret',
  '*.secretValue',
  '*.key',
  '*.signingKey',
  '*.password',
];

const REQUEST_ID_HEADER = 'x-request-id';

/** JSON logs with a request id per HTTP request (taken from x-request-id when a proxy set one). */
@Module({})
export class ServiceLoggerModule {
  static forRoot(service: string): DynamicModule {
    return {
      module: ServiceLoggerModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            name: service,
            level: process.env.LOG_LEVEL ?? 'info',
            redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
            genReqId: (req: IncomingMessage, res: ServerResponse) => {
              const incoming = req.headers[REQUEST_ID_HEADER];
              const id =
                typeof incoming === 'string' && /^[\w.-]{1,128}$/.test(incoming)
                  ? incoming
                  : randomUUID();
              res.setHeader(REQUEST_ID_HEADER, id);
              return id;
            },
            // Probes every few seconds would drown the useful lines.
            autoLogging: { ignore: (req) => req.url?.startsWith('/healthz') ?? false },
            customProps: () => ({ service }),
          },
        }),
      ],
      exports: [LoggerModule],
    };
  }
}
