import { type Request, type RequestHandler, Router } from 'express';
import { UploadQuery } from '../../../shared/contracts';
import { forbidden } from '../../lib/errors';
import { validateRequest } from '../../lib/validate';
import { currentUser, mustBeSignedIn, type RateLimiter } from '../auth';
import { parseObjectPath, type Visibility } from './object-path';
import type { ObjectsService } from './objects.service';
import { serveObject } from './serve-object';

const DOWNLOAD_PATH = /^\/(public|private)\/(.*)$/;

/**
 * `GET|HEAD /objects/public/<path>` and `/objects/private/<path>` (mounted at `/objects`).
 * The path is taken still percent-encoded from the URL and validated segment by segment
 * (object-path.ts) before any storage call.
 */
export function downloadHandler(service: ObjectsService, viewerOf: (req: Request) => { id: string } | undefined = currentUser): RequestHandler {
  return async (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const match = DOWNLOAD_PATH.exec(req.path);
    if (!match) return next();
    const visibility = match[1] as Visibility;
    const relative = parseObjectPath(match[2]!);
    const { object, cacheControl } = await service.locate(visibility, relative, viewerOf(req));
    serveObject(req, res, next, service.driver, object, { cacheControl, crossOrigin: visibility === 'public' });
  };
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
