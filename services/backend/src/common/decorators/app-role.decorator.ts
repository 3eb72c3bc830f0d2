import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiResponse } from '@nestjs/swagger';
import { errorResponseSchema } from '../http/error-response.schema.js';

export const REQUIRED_APP_ROLE = 'requiredAppRole';
export const PUBLIC_ROUTE = 'publicRoute';

/** The app role of the backend API that lets the frontend read documents (infra/identities.json). */
export const DOCUMENTS_READ = 'Documents.Read';

/** The OpenAPI security scheme of an Entra access token for this API. */
export const ENTRA_BEARER = 'entra';
/** The OpenAPI operation extension naming the app role a route requires. */
export const APP_ROLE_EXTENSION = 'x-app-role';

/**
 * The route answers only callers whose verified token carries this app role. The same decorator
 * documents it (bearer security, the role, the 401 and 403), so the OpenAPI document says what
 * the guard enforces.
 */
export const RequireAppRole = (role: string) =>
  applyDecorators(
    SetMetadata(REQUIRED_APP_ROLE, role),
    ApiBearerAuth(ENTRA_BEARER),
    ApiExtension(APP_ROLE_EXTENSION, role),
    ApiResponse({
      status: 401,
      description:
        'No Entra access token for this API, or one that does not verify (WWW-Authenticate: Bearer)',
      standardSchema: errorResponseSchema,
    }),
    ApiResponse({
      status: 403,
      description: `The token does not carry the app role ${role} (error="insufficient_scope")`,
      standardSchema: errorResponseSchema,
    }),
  );

/** The route needs no token (the kubelet's probes). Every other route is refused without one. */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
