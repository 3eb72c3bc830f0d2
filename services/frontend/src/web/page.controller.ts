import { Controller, Get, Header, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PageRenderer } from './page.renderer.js';

@Controller()
export class PageController {
  constructor(private readonly pages: PageRenderer) {}

  @Get()
  @Header('cache-control', 'no-store')
  async index(
    @Req() request: Request,
    @Res() response: Response,
    @Query('uploaded') uploaded?: string,
  ): Promise<void> {
    response.type('html').send(await this.pages.render(request, response, { uploaded }));
  }
}
