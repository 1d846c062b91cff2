import { type NextFunction, type Request, type RequestHandler, type Response, Router } from 'express';
import { UploadQuery } from '../../../shared/contracts';
import { forbidden } from '../../lib/errors';
import { validateRequest } from '../../lib/validate';
import { currentUser, mustBeSignedIn, type RateLimiter } from '../auth';
import { invalidObjectPath, parseObjectPath, type Visibility } from './object-path';
import type { ObjectsService } from './objects.service';
import { serveObject } from './serve-object';

const DOWNLOAD_PATH = /^\/(public|private)\/(.*)$/;

/**
 * `GET|HEAD /objects/public/<path>` and `/objects/private/<path>` (mount at `/objects`). Real
 * routes, so metrics and access logs carry the pattern; the object path itself is taken still
 * percent-encoded from the URL and validated segment by segment (object-path.ts) before any
 * storage call (Express's decoded parameter is not used: it would hide an encoded slash).
 */
export function downloadRouter(service: ObjectsService, viewerOf: (req: Request) => { id: string } | undefined = currentUser): Router {
  const router = Router();
  const download: RequestHandler = async (req, res, next) => {
    const match = DOWNLOAD_PATH.exec(req.path)!;
    const visibility = match[1] as Visibility;
    const relative = parseObjectPath(match[2]!);
    const { object, cacheControl } = await service.locate(visibility, relative, viewerOf(req));
    serveObject(req, res, next, service.driver, object, { cacheControl, crossOrigin: visibility === 'public' });
  };
  router.get('/public/*path', download);
  router.get('/private/*path', download);
  // Express fails to decode a malformed escape in the path parameter before our handler runs.
  router.use((error: unknown, _req: Request, _res: Response, next: NextFunction) => {
    next(error instanceof URIError ? invalidObjectPath('malformed percent-encoding') : error);
  });
  return router;
}

/** `POST /api/uploads?visibility=private|public` (mounted at `/api/uploads`). */
export function uploadRouter(service: ObjectsService, limiter: RateLimiter): Router {
  const router = Router();
  router.post('/', async (req, res) => {
    const user = mustBeSignedIn(req);
    const { query } = validateRequest(req, { query: UploadQuery });
    if (query.visibility === 'public' && user.role !== 'vendor' && user.role !== 'admin') {
      throw forbidden('Only vendors can upload public objects', 'vendor_required');
    }
    await limiter.consume(user.id);
    const result = await service.upload(req, user, query.visibility);
    res.status(201).json(result);
  });
  return router;
}
