import { z } from 'zod';

/** Every refusal and failure this API answers: Nest's HttpException body, and the filters'. */
export const errorResponseSchema = z
  .object({
    statusCode: z.number().int().min(400).max(599),
    message: z.string(),
    error: z.string().optional(),
  })
  .meta({ id: 'ErrorResponse', description: 'A refusal or failure, never with Azure detail' });
