import type { Request } from 'express';
import { z } from 'zod';
import { AppError } from './errors';

interface Schemas {
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
}

type Parsed<S extends Schemas> = {
  [K in keyof S]: S[K] extends z.ZodType ? z.output<S[K]> : never;
};

export interface ValidationIssue {
  location: 'body' | 'query' | 'params';
  path: Array<string | number>;
  code: string;
  message: string;
}

/**
 * Parses body, query and params together and reports every issue at once as a 400
 * `validation_failed` with `details.issues`.
 */
export function validateRequest<S extends Schemas>(req: Request, schemas: S): Parsed<S> {
  const issues: ValidationIssue[] = [];
  const out: Record<string, unknown> = {};
  for (const location of ['params', 'query', 'body'] as const) {
    const schema = schemas[location];
    if (!schema) continue;
    const input = location === 'body' ? (req.body ?? {}) : req[location];
    const result = schema.safeParse(input);
    if (result.success) out[location] = result.data;
    else
      for (const issue of result.error.issues) {
        issues.push({
          location,
          path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
          code: issue.code,
          message: issue.message,
        });
      }
  }
  if (issues.length > 0) {
    throw new AppError(400, 'validation_failed', `Invalid request: ${describe(issues[0]!)}`, { issues });
  }
  return out as Parsed<S>;
}

function describe(issue: ValidationIssue): string {
  const where = [issue.location, ...issue.path].join('.');
  return `${where}: ${issue.message}`;
}

/** A uuid path parameter; anything else is a 400, not a database error. */
// Lower-cased: Postgres compares UUIDs whatever their case, JS compares strings (caps, cache keys, ownership).
export const uuidParam = z.uuid({ message: 'must be a UUID' }).toLowerCase();
