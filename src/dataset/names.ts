import path from 'node:path';

/**
 * The id / image name / file rules of the ECAF layout (docs/formats.md), in one place: pair
 * files name images `<id>.jpg` relative to the aligned folders; `img_mtcnn/<id>.jpg` and
 * `img_ffhq/<id>.png` hold them. Every reader and writer goes through these functions.
 */
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

/** The file name of an id in an aligned folder: `<id>.jpg` (img_mtcnn) or `<id>.png` (img_ffhq). */
export const alignedFileName = (id: string, variant: AlignedVariant): string => `${id}${variant === 'ffhq' ? FFHQ_EXT : MTCNN_EXT}`;

/**
 * The aligned file a pair file's image name resolves to under `dir` (the variant's folder):
 * img_mtcnn takes the name as written (foreign pair files may name `.png` crops there);
 * img_ffhq takes it with its extension made `.png`. Null when the name has no id.
 */
export function alignedFileOfImage(dir: string, name: string, variant: AlignedVariant): string | null {
  const id = idOfImageName(name);
  if (id === null) return null;
  return variant === 'mtcnn' ? path.join(dir, name) : path.join(dir, path.dirname(name), alignedFileName(id, 'ffhq'));
}
