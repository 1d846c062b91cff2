import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiPath } from '../../server/lib/http/route-responses';
import type { RecordedResponse } from './contract-recorder';

interface MediaType {
  schema?: Record<string, unknown>;
}
interface OpenApiResponse {
  content?: Record<string, MediaType>;
}
interface OpenApiDocument {
  paths?: Record<string, Record<string, { responses?: Record<string, OpenApiResponse> } | undefined> | undefined>;
  components?: unknown;
}

/** Checks recorded responses against an OpenAPI 3.1 document (its schemas are JSON Schema 2020-12). */
export function createContractChecker(document: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>();
  const validatorFor = (key: string, schema: Record<string, unknown>) => {
    let validate = validators.get(key);
    if (!validate) {
      // `#/components/schemas/…` references resolve against this root.
      validate = ajv.compile({ ...schema, components: document.components });
      validators.set(key, validate);
    }
    return validate;
  };

  /** What is wrong with one recorded response, or undefined when the document describes it. */
  return function problemWith(response: RecordedResponse): string | undefined {
    if (!response.pattern) return undefined;
    const path = openApiPath(response.pattern);
    const method = response.method === 'HEAD' ? 'get' : response.method.toLowerCase();
    const operation = document.paths?.[path]?.[method];
    const label = `${response.method} ${response.pattern} → ${response.status}`;
    if (!operation) return `${label}: the route is not in the document`;
    const documented = operation.responses?.[String(response.status)];
    if (!documented)
      return `${label}: status not documented (documented: ${Object.keys(operation.responses ?? {}).join(', ')}); body ${preview(response.body)}`;
    if (!response.complete || response.method === 'HEAD' || response.status === 304 || response.status === 204) return undefined;
    const json = documented.content?.['application/json'];
    const isJson = /^application\/json\b/i.test(response.contentType);
    if (!json) {
      if (isJson && !documented.content?.['*/*'])
        return `${label}: answered JSON, documented as ${Object.keys(documented.content ?? {}).join(', ') || 'no body'}`;
      return undefined;
    }
    if (!isJson) return `${label}: documented as JSON, answered ${response.contentType || 'no content type'}`;
    const validate = validatorFor(`${method} ${path} ${response.status}`, json.schema ?? {});
    if (validate(response.body)) return undefined;
    return `${label}: body does not match the documented schema: ${ajv.errorsText(validate.errors, { dataVar: 'body' })}; body ${preview(response.body)}`;
  };
}

function preview(body: unknown): string {
  const text = JSON.stringify(body) ?? 'undefined';
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
