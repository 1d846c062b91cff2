import { z } from 'zod';

/** Trimmed text up to `max` characters. Postgres text cannot hold NUL (0x00): refused here as a 400, not a database error. */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .refine((value) => !value.includes('\u0000'), 'must not contain NUL characters');
