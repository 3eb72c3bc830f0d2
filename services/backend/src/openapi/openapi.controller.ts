import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { DOCUMENTS_READ, RequireAppRole } from '../common/decorators/app-role.decorator.js';
import { OPENAPI_PATH, OpenApiDocument } from './openapi-document.js';

/**
 * GET /openapi.json, behind the same guard as the API: the backend admits only the frontend's
 * identity (zero trust inside the cluster; NetworkPolicy is a second layer, not the only one), and
 * a description of routes and roles is no reason for an exception. A reader with a token for the
 * API fetches it like any operation; the spec in openapi.spec.ts builds it without one.
 */
@Controller()
@RequireAppRole(DOCUMENTS_READ)
export class OpenApiController {
  constructor(private readonly document: OpenApiDocument) {}

  @Get(OPENAPI_PATH)
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: 'This document (OpenAPI 3)' })
  @ApiOkResponse({ description: 'The OpenAPI document of this API' })
  get() {
    return this.document.get();
  }
}
