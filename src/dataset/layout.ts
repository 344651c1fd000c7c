import path from 'node:path';
import { alignedFileName, rawFileName, type RawExtension } from './names.js';

/** The ECAF dataset root: every stage reads the previous stage's output from these paths. */
export interface DatasetLayout {
  root: string;
  imageData: string;
  dataJson: string;
  raw: string;
  crawlLog: string;
  landmarksOverride: string;
  landmarksLog: string;
  ffhq: string;
  mtcnn: string;
  pairs: string;
  reports: string;
  /** Embedding cache (see benchmark). */
  cache: string;
}

export function datasetLayout(root: string): DatasetLayout {
  const r = path.resolve(root);
  const imageData = path.join(r, 'image_data');
  return {
    root: r,
    imageData,
    dataJson: path.join(imageData, 'data.json'),
    raw: path.join(imageData, 'raw'),
    crawlLog: path.join(imageData, 'crawl.jsonl'),
    landmarksOverride: path.join(imageData, 'landmarks-override.json'),
    landmarksLog: path.join(imageData, 'landmarks.jsonl'),
    ffhq: path.join(imageData, 'img_ffhq'),
    mtcnn: path.join(imageData, 'img_mtcnn'),
    pairs: path.join(r, 'image_pairs'),
    reports: path.join(r, 'reports'),
    cache: path.join(r, '.ecaf-cache'),
  };
}

export { RAW_EXTENSIONS, type RawExtension } from './names.js';

export const ffhqFile = (layout: DatasetLayout, id: string): string => path.join(layout.ffhq, alignedFileName(id, 'ffhq'));
export const mtcnnFile = (layout: DatasetLayout, id: string): string => path.join(layout.mtcnn, alignedFileName(id, 'mtcnn'));
export const rawFile = (layout: DatasetLayout, id: string, ext: RawExtension): string => path.join(layout.raw, rawFileName(id, ext));
