/*
 * Cache-Control by content type (SPEC §9). Uploaded names are random and never reused, so long
 * lifetimes are safe; stale-while-revalidate lets a CDN answer at once while it refreshes, and
 * stale-if-error keeps video playing through an origin hiccup.
 */
const DAY = 86_400;

export function cacheControlFor(contentType: string | undefined, isPrivate: boolean): string {
  // The owner's browser may keep a copy but must revalidate (a cheap 304) with its session every time;
  // shared caches must never store it.
  if (isPrivate) return 'private, no-cache';
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type.startsWith('image/')) return `public, max-age=${DAY}, stale-while-revalidate=${7 * DAY}`;
  if (type.startsWith('video/')) return `public, max-age=${7 * DAY}, stale-if-error=${DAY}`;
  if (type.startsWith('font/') || type.startsWith('application/font-') || type === 'application/vnd.ms-fontobject')
    return `public, max-age=${30 * DAY}, immutable`;
  if (type === 'text/css' || type === 'text/javascript' || type === 'application/javascript')
    return `public, max-age=${DAY}, stale-while-revalidate=3600`;
  if (type === 'application/pdf') return `public, max-age=${DAY / 2}`;
  return 'public, max-age=3600';
}
