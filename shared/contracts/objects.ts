import { z } from 'zod';

export const Visibility = z.enum(['private', 'public']);

/** `POST /api/uploads?visibility=…` (multipart/form-data, field `file`). Private unless asked otherwise. */
export const UploadQuery = z.object({
  visibility: Visibility.default('private'),
});

/** 201 body of an upload. `key` is what other resources (product images) store; `url` downloads it. */
export const UploadResult = z.object({
  key: z.string().regex(/^(public|private)\/.+/),
  url: z.string().startsWith('/objects/'),
  contentType: z.string(),
  size: z.number().int().nonnegative(),
});

export type Visibility = z.infer<typeof Visibility>;
export type UploadQuery = z.infer<typeof UploadQuery>;
export type UploadResult = z.infer<typeof UploadResult>;
