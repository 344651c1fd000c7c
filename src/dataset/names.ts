import path from 'node:path';

/**
 * The id / image name / file rules of the ECAF layout (docs/formats.md), in one place: pair
 * files name images `<id>.jpg` relative to the aligned folders; `img_mtcnn/<id>.jpg` and
 * `img_ffhq/<id>.png` hold them. Every reader and writer goes through these functions.
 */
/** Sniffed formats crawl stores, and their extensions in raw/ (`raw/<id>.<ext>`). */
export const RAW_EXTENSIONS = ['jpg', 'png', 'webp', 'gif', 'bmp', 'tiff'] as const;
export type RawExtension = (typeof RAW_EXTENSIONS)[number];

export const rawFileName = (id: string, ext: RawExtension): string => `${id}.${ext}`;

/** The id of a raw/ file name `<id>.<ext>` with a crawl extension (ids may hold dots), or null for any other name. */
export function idOfRawFileName(name: string): string | null {
  const dot = name.lastIndexOf('.');
  return dot > 0 && (RAW_EXTENSIONS as readonly string[]).includes(name.slice(dot + 1)) ? name.slice(0, dot) : null;
}

export const MTCNN_EXT = '.jpg';
export const FFHQ_EXT = '.png';

/** Which aligned folder an image name is looked up in. */
export type AlignedVariant = 'mtcnn' | 'ffhq';

/** Extensions a pair file may give an image (any of them names the same id). */
const IMAGE_EXT = /\.(jpe?g|png|webp|bmp|gif|tiff?)$/i;

/** The name a pair file uses for the image of record `id`. */
export const imageNameOf = (id: string): string => `${id}${MTCNN_EXT}`;

/**
 * The record id an image name of a pair file refers to: its base name without an image
 * extension. Null when nothing is left (an empty or extension-only name).
 */
export function idOfImageName(name: string): string | null {
  const stem = path.basename(name).replace(IMAGE_EXT, '');
  return stem.length > 0 && stem !== '.' && stem !== '..' ? stem : null;
}

/**
 * Why a pair file's image name resolves to no aligned file, or undefined when it does: it must
 * be relative, stay inside the aligned folder (no `..` part) and name an id.
 */
export function imageNameProblem(name: string): string | undefined {
  if (path.isAbsolute(name) || /^([A-Za-z]:)?[\\/]/.test(name)) return 'is an absolute path (pair files name images relative to the aligned folders)';
  if (name.split(/[\\/]/).includes('..')) return 'leaves the aligned folder (a ".." part)';
  if (idOfImageName(name) === null) return 'names no id (it is empty or only an extension)';
  return undefined;
}

/** The file name of an id in an aligned folder: `<id>.jpg` (img_mtcnn) or `<id>.png` (img_ffhq). */
export const alignedFileName = (id: string, variant: AlignedVariant): string => `${id}${variant === 'ffhq' ? FFHQ_EXT : MTCNN_EXT}`;

/**
 * The aligned file a pair file's image name resolves to under `dir` (the variant's folder):
 * img_mtcnn takes the name as written (foreign pair files may name `.png` crops there);
 * img_ffhq takes it with its extension made `.png`. Null when the name does not resolve (imageNameProblem).
 */
export function alignedFileOfImage(dir: string, name: string, variant: AlignedVariant): string | null {
  if (imageNameProblem(name) !== undefined) return null;
  return variant === 'mtcnn' ? path.join(dir, name) : path.join(dir, path.dirname(name), alignedFileName(idOfImageName(name)!, 'ffhq'));
}
