import { type INestApplication, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { DEFAULT_RETRY_AFTER_SECONDS } from '@wi/azure';
import { ENTRA_BEARER } from '../common/decorators/app-role.decorator.js';
import { errorResponseSchema } from '../common/http/error-response.schema.js';

/** Where the document is served: the conventional name, beside the API it describes. */
export const OPENAPI_PATH = 'openapi.json';

/**
 * The backend's API as Nest sees it: every controller route, the bodies from the zod contracts
 * (@nestjs/swagger converts them with zod's own JSON Schema output), and the security each route's
 * guard decorators declare.
 */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Document intake backend API')
    .setDescription(
      'Called only by the frontend, with its workload identity: an Entra access token for ' +
        'api://<API_AUDIENCE>/.default carrying the app role each operation names (x-app-role).',
    )
    .setVersion('1')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: "Entra access token for this API (aud = the API's app id)",
      },
      ENTRA_BEARER,
    )
    .addGlobalResponse(
      {
        status: 503,
        description: `An Azure service the operation needs is unavailable (Retry-After, ${DEFAULT_RETRY_AFTER_SECONDS} s unless Azure said otherwise, when waiting helps)`,
        standardSchema: errorResponseSchema,
      },
      { status: 500, description: 'An unexpected failure', standardSchema: errorResponseSchema },
    )
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** The document, built once the application exists (runService's configure step). */
@Injectable()
export class OpenApiDocument {
  private document?: OpenAPIObject;

  publish(app: INestApplication): void {
    this.document = createOpenApiDocument(app);
  }

  get(): OpenAPIObject {
    if (!this.document)
      throw new ServiceUnavailableException('The API description is not built yet.');
    return this.document;
  }
}

/** runService's configure step (and the specs'): the routes are all known once the app exists. */
export function publishOpenApiDocument(app: INestApplication): void {
  app.get(OpenApiDocument).publish(app);
}
