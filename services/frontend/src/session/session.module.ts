import { Module } from '@nestjs/common';
import { SessionKeyService } from './session-key.service.js';

@Module({ providers: [SessionKeyService], exports: [SessionKeyService] })
export class SessionModule {}
