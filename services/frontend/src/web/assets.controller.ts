import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Controller, Get, NotFoundException, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

// Next to src/ and dist/ alike, so the same path works from source (tests) and from the build.
const ASSETS_DIR = new URL('../../assets/', import.meta.url);
const TYPES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

function load(): Map<string, Asset> {
  return new Map(
    Object.entries(TYPES).map(([name, type]) => {
      const body = readFileSync(new URL(name, ASSETS_DIR));
      return [
        name,
        {
          body,
          type,
          etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`,
        },
      ];
    }),
  );
}

/** The page's only script and stylesheet, read once at start-up and served with an ETag. */
@Controller('assets')
export class AssetsController {
  private readonly assets = load();

  @Get(':name')
  serve(@Param('name') name: string, @Req() request: Request, @Res() response: Response): void {
    const asset = this.assets.get(name);
    if (!asset) throw new NotFoundException();
    response.setHeader('etag', asset.etag);
    response.setHeader('cache-control', 'no-cache');
    if (request.headers['if-none-match'] === asset.etag) {
      response.status(304).end();
      return;
    }
    response.type(asset.type).send(asset.body);
  }
}
