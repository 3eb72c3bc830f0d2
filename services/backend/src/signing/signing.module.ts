import { Module } from '@nestjs/common';
import { RecordSigner } from './record-signer.js';
import { SigningKeyService } from './signing-key.service.js';

@Module({
  providers: [SigningKeyService, RecordSigner],
  exports: [RecordSigner, SigningKeyService],
})
export class SigningModule {}
