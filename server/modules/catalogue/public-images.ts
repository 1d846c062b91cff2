import { badRequest } from '../../lib/errors';
import type { CatalogueDeps } from './catalogue-deps';

/** `imageBaseUrl`: the public base URL (config PUBLIC_BASE_URL, no trailing slash); object URLs are absolute on it. */
export const publicObjectUrl = (imageBaseUrl: string, key: string) => `${imageBaseUrl}/objects/${key}`;

/** 400 `unknown_image` unless every key names an uploaded public object (product images, store logos). */
export async function checkImages(deps: CatalogueDeps, keys: string[] | undefined): Promise<void> {
  if (!keys || !deps.imageExists) return;
  const missing: string[] = [];
  for (const key of keys) if (!(await deps.imageExists(key))) missing.push(key);
  if (missing.length > 0) throw badRequest('unknown_image', 'Some image keys do not name an uploaded public object', { missing });
}
