import type { INestApplication } from '@nestjs/common';
import { DiscoveryService, ModulesContainer, Reflector } from '@nestjs/core';
import { Validator } from '@seriousme/openapi-schema-validator';
import { documentViewSchema } from '@wi/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_ROLE_EXTENSION,
  ENTRA_BEARER,
  PUBLIC_ROUTE,
  REQUIRED_APP_ROLE,
} from '../common/decorators/app-role.decorator.js';
import { startBackendForTest } from '../testing/backend-test-app.js';
import { OPENAPI_PATH } from './openapi-document.js';

interface Operation {
  operationId: string;
  security?: Record<string, string[]>[];
  responses: Record<string, { content?: { 'application/json'?: { schema?: { $ref?: string } } } }>;
  [extension: `x-${string}`]: unknown;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties: Record<string, unknown> }> };
}

/** A route as Express holds it: Nest names each route handler `Controller.method`. */
interface RegisteredRoute {
  method: string;
  path: string;
  controller: string;
  handler: string;
}

interface ExpressLayer {
  route?: { path: string; stack: { name: string; method: string }[] };
}

function registeredRoutes(app: INestApplication): RegisteredRoute[] {
  const express = app.getHttpAdapter().getInstance() as { router: { stack: ExpressLayer[] } };
  return express.router.stack.flatMap(({ route }) =>
    (route?.stack ?? []).flatMap(({ name, method }) => {
      const nest = /^(\w+)\.(\w+)$/.exec(name); // middleware and parsers have other names
      if (!nest) return [];
      return [{ method, path: route!.path, controller: nest[1]!, handler: nest[2]! }];
    }),
  );
}

/** Express's `/documents/:id` is OpenAPI's `/documents/{id}`. */
const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

let app: INestApplication;
let url: string;
let document: Document;
beforeAll(async () => {
  ({ app, url } = await startBackendForTest());
  const response = await fetch(`${url}/${OPENAPI_PATH}`, {
    headers: { authorization: 'Bearer frontend' },
  });
  expect(response.status).toBe(200);
  document = (await response.json()) as Document;
});
afterAll(() => app?.close());

function operations(): { key: string; operation: Operation }[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ key: `${method} ${path}`, operation })),
  );
}

describe(`GET /${OPENAPI_PATH}`, () => {
  it('is behind the same guard as the API it describes', async () => {
    const anonymous = await fetch(`${url}/${OPENAPI_PATH}`);
    expect(anonymous.status).toBe(401);
    const withoutRole = await fetch(`${url}/${OPENAPI_PATH}`, {
      headers: { authorization: 'Bearer no-role' },
    });
    expect(withoutRole.status).toBe(403);
  });

  it('is a valid OpenAPI 3 document', async () => {
    expect(document.openapi).toMatch(/^3\./);
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes exactly the routes Nest registered, no more and no fewer', () => {
    const routes = registeredRoutes(app);
    expect(routes.length).toBeGreaterThan(0);
    expect(
      operations()
        .map(({ key }) => key)
        .sort(),
    ).toEqual(routes.map((r) => `${r.method} ${openApiPath(r.path)}`).sort());
  });

  it("documents each route's security as its guard decorators declare it", async () => {
    const reflector = new Reflector();
    const controllers = new Map(
      new DiscoveryService(app.get(ModulesContainer))
        .getControllers()
        .map((wrapper) => [wrapper.name, wrapper.metatype as new () => object]),
    );
    const byOperationId = new Map(operations().map((o) => [o.operation.operationId, o]));
    for (const route of registeredRoutes(app)) {
      const { key, operation } = byOperationId.get(`${route.controller}_${route.handler}`)!;
      const controller = controllers.get(route.controller)!;
      const targets = [
        (controller.prototype as Record<string, () => unknown>)[route.handler]!,
        controller,
      ];
      const isPublic = reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets) === true;
      const role = reflector.getAllAndOverride<string | undefined>(REQUIRED_APP_ROLE, targets);
      // The guard refuses a route that declares neither: the document must not show one.
      expect(isPublic || role !== undefined, key).toBe(true);
      if (isPublic) {
        expect(operation.security ?? [], key).toEqual([]);
        expect(operation[APP_ROLE_EXTENSION], key).toBeUndefined();
      } else {
        expect(operation.security, key).toEqual([{ [ENTRA_BEARER]: [] }]);
        expect(operation[APP_ROLE_EXTENSION], key).toBe(role);
        expect(Object.keys(operation.responses), key).toEqual(
          expect.arrayContaining(['401', '403']),
        );
      }
    }
  });

  it('matches what the guard does: every secured route refuses a request without a token or role', async () => {
    for (const { key, operation } of operations()) {
      if (!operation.security?.length) continue;
      const [method, path] = key.split(' ') as [string, string];
      const target = `${url}${path.replace(/\{\w+\}/g, '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b')}`;
      const anonymous = await fetch(target, { method: method.toUpperCase() });
      expect(anonymous.status, key).toBe(401);
      expect(anonymous.headers.get('www-authenticate'), key).toMatch(/^Bearer /);
      const withoutRole = await fetch(target, {
        method: method.toUpperCase(),
        headers: { authorization: 'Bearer no-role' },
      });
      expect(withoutRole.status, key).toBe(403);
    }
  });

  it('describes the document bodies from the zod contracts, not a copy', () => {
    const list = document.paths['/documents']!.get!.responses['200']!;
    expect(list.content?.['application/json']?.schema?.$ref).toBe(
      '#/components/schemas/DocumentListResponse',
    );
    const one = document.paths['/documents/{id}']!.get!.responses['200']!;
    expect(one.content?.['application/json']?.schema?.$ref).toBe(
      '#/components/schemas/DocumentView',
    );
    expect(Object.keys(document.components.schemas.DocumentView!.properties).sort()).toEqual(
      Object.keys(documentViewSchema.shape).sort(),
    );
  });
});
