/*
 * What may be uploaded, decided by the bytes' magic number (file-type), never by the client's
 * Content-Type or file name. SVG and HTML are deliberately absent: served from our origin they
 * could run script.
 */
const ALLOWED = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif', 'application/pdf', 'video/mp4', 'video/webm']);

export const ALLOWED_CONTENT_TYPES: readonly string[] = [...ALLOWED];

/** How many leading bytes file-type needs to recognise every type it knows. */
export const SNIFF_BYTES = 4100;

export interface SniffedType {
  mime: string;
  ext: string;
}

type FileTypeModule = typeof import('file-type');
let fileType: Promise<FileTypeModule> | undefined;

/** The allowed type the bytes actually are, or undefined. */
export async function sniffAllowedType(head: Uint8Array): Promise<SniffedType | undefined> {
  // file-type is ESM-only; TypeScript (module NodeNext) keeps this a real import() in the CommonJS build.
  fileType ??= import('file-type');
  const { fileTypeFromBuffer } = await fileType;
  const found = await fileTypeFromBuffer(head);
  return found && ALLOWED.has(found.mime) ? { mime: found.mime, ext: found.ext } : undefined;
}
