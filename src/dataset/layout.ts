import path from 'node:path';
import { alignedFileName } from './names.js';

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

/** Sniffed formats crawl stores, and their extensions in raw/. */
export const RAW_EXTENSIONS = ['jpg', 'png', 'webp', 'gif', 'bmp', 'tiff'] as const;
export type RawExtension = (typeof RAW_EXTENSIONS)[number];

export const ffhqFile = (layout: DatasetLayout, id: string): string => path.join(layout.ffhq, alignedFileName(id, 'ffhq'));
export const mtcnnFile = (layout: DatasetLayout, id: string): string => path.join(layout.mtcnn, alignedFileName(id, 'mtcnn'));
export const rawFile = (layout: DatasetLayout, id: string, ext: RawExtension): string => path.join(layout.raw, `${id}.${ext}`);
