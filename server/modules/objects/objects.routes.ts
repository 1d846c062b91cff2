import { z } from 'zod';
import { UploadQuery, UploadResult } from '../../../shared/contracts';
import { forbidden, notFound } from '../../lib/errors';
import { defineRoute, errors, type HeaderSpec, json, type Route, reply } from '../../lib/http/define-route';
import { invalidObjectPath, parseObjectPath, type Visibility } from './object-path';
import type { ObjectsService } from './objects.service';
import { serveObject, setObjectSecurityHeaders } from './serve-object';

// Documents the path; Express hands the decoded segments over as an array, the handler reads the raw URL instead.
const ObjectPath = z.object({
  path: z
    .preprocess((v) => (Array.isArray(v) ? v.join('/') : v), z.string())
    .describe('Object path inside the bucket (no traversal, no encoded slash)'),
});
const bytes = { type: '*/*', schema: { type: 'string', format: 'binary' } };
const header = (description: string): HeaderSpec => ({ description, schema: { type: 'string' } });
const validators = {
  ETag: header('Strong entity tag of the object'),
  'Last-Modified': header('When the object was last written'),
  'Cache-Control': header('By content type; `private, no-cache` for private objects'),
};
const objectHeaders = {
  ...validators,
  'Accept-Ranges': header('`bytes`'),
  'Content-Length': header('Bytes in this response'),
  'Content-Disposition': header('`inline` for PNG, JPEG, GIF, WebP and AVIF images; `attachment` for everything else'),
  'Content-Security-Policy': header('`sandbox`: a served document runs no script on this origin'),
};
const retryAfter: Record<string, HeaderSpec> = { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } };

/**
 * `GET|HEAD /objects/public/<path>` and `/objects/private/<path>`: answered like a static file
 * server (serve-object.ts). The object path is taken still percent-encoded from the URL and
 * validated segment by segment (object-path.ts) before any storage call; Express's decoded
 * parameter is not used, it would hide an encoded slash.
 */
function downloadRoute(service: ObjectsService, visibility: Visibility): Route {
  const prefix = `/objects/${visibility}/`;
  return defineRoute({
    operationId: visibility === 'public' ? 'downloadPublicObject' : 'downloadPrivateObject',
    method: 'get',
    path: `${prefix}*path`,
    tag: 'objects',
    summary: visibility === 'public' ? 'Download a public object' : 'Download a private object (its owner only)',
    description:
      'HEAD answers the same headers without the body. Range (`bytes=`, one range → 206), If-Range, ETag and Last-Modified validators (304), If-Match / If-Unmodified-Since (412), like a static file server.' +
      (visibility === 'private' ? " Anyone else's private object is a 404, as if it did not exist." : ''),
    auth: 'anyone',
    // Its own per-IP bucket: a page of product images is many downloads, which would drain the api bucket.
    limit: ['downloads'],
    params: ObjectPath,
    responses: {
      200: { description: 'The whole object', content: bytes, headers: objectHeaders },
      206: {
        description: 'One byte range of the object',
        content: bytes,
        headers: { ...objectHeaders, 'Content-Range': header('`bytes start-end/size`') },
      },
      304: { description: 'Not modified (If-None-Match / If-Modified-Since)', headers: validators },
      400: errors('The path is malformed (traversal, encoded separator, control character, bad escape)', 'invalid_object_path'),
      404: errors('No such object (or not yours)', 'not_found'),
      412: errors('If-Match / If-Unmodified-Since does not hold', 'precondition_failed'),
      416: {
        ...errors('No requested range overlaps the object', 'range_not_satisfiable'),
        headers: { 'Content-Range': header('`bytes */size`') },
      },
      503: { ...errors('Object storage is unavailable', 'storage_unavailable'), headers: retryAfter },
    },
    // Express fails to decode a malformed escape in the path parameter before the route runs.
    malformedPath: () => invalidObjectPath('malformed percent-encoding'),
    async handler({ req, res, next, user }) {
      setObjectSecurityHeaders(res);
      // Express matches paths case-insensitively; only the canonical lower-case prefix names an object.
      if (!req.path.startsWith(prefix)) throw notFound('Object');
      const relative = parseObjectPath(req.path.slice(prefix.length));
      const { object, cacheControl } = await service.locate(visibility, relative, user);
      serveObject(req, res, next, service.driver, object, { cacheControl, crossOrigin: visibility === 'public' });
      return undefined;
    },
  });
}

export function downloadRoutes(service: ObjectsService): Route[] {
  return [downloadRoute(service, 'public'), downloadRoute(service, 'private')];
}

export function uploadRoutes(service: ObjectsService): Route[] {
  return [
    defineRoute({
      operationId: 'uploadObject',
      method: 'post',
      path: '/api/uploads',
      tag: 'objects',
      summary: 'Upload a file (multipart, streamed; public needs a vendor)',
      description: 'The type is decided by the bytes, not the declared type. Private unless `visibility=public`.',
      auth: 'user',
      limit: ['writes', 'uploads'],
      query: UploadQuery,
      rawBody: {
        contentType: 'multipart/form-data',
        description: 'One file in the field `file`',
        schema: {
          type: 'object',
          required: ['file'],
          properties: {
            file: {
              type: 'string',
              format: 'binary',
              contentMediaType: 'application/octet-stream',
              description: 'The file (streamed; its type is checked by its bytes)',
            },
          },
        },
      },
      authorize({ user, query }) {
        if (query.visibility === 'public' && user.role !== 'vendor' && user.role !== 'admin') {
          throw forbidden('Only vendors can upload public objects', 'vendor_required');
        }
      },
      responses: {
        201: json('Stored; `key` is what product images refer to, `url` downloads it', UploadResult),
        400: errors(
          'Malformed multipart body, no `file` field, or the upload was cut',
          'malformed_multipart',
          'file_required',
          'request_aborted',
        ),
        403: errors('Public uploads are for vendors', 'vendor_required'),
        413: {
          ...errors(
            'The file is larger than the limit, or would take your stored files past UPLOAD_QUOTA_BYTES (the connection is closed)',
            'payload_too_large',
            'upload_quota_exceeded',
          ),
        },
        415: errors('Not multipart/form-data, or a file type that is not allowed', 'multipart_required', 'unsupported_file_type'),
        503: { ...errors('Object storage is unavailable', 'storage_unavailable'), headers: retryAfter },
      },
      handler: async ({ req, user, query }) => reply(201, await service.upload(req, user, query.visibility)),
    }),
  ];
}
