/** Leave-one-out identification (`identification: 'loo'`) in the benchmark run: which images it needs, and its report from their embeddings. */
import { alignedFileOfImage, idOfImageName, imageNameOf } from '../dataset/names.js';
import type { EcafRecord } from '../dataset/record.js';
import { VERSION } from '../version.js';
import { embeddingOf, type Embeddings } from '../models/embed-pipeline.js';
import type { Embedder } from '../models/embedder.js';
import type { BlockProduct } from '../similarity/block-product.js';
import { leaveOneOutIdentification } from './loo.js';
import type { LooReport } from './report/loo.js';
import type { ImagesFolder } from './plan.js';
import type { ImageToEmbed } from '../models/embed-pipeline.js';

/** The aligned image of every data.json record (those not aligned come back missing from the embedding and are left out). */
export function planLeaveOneOut(records: ReadonlyMap<string, EcafRecord>, folder: ImagesFolder): ImageToEmbed[] {
  const images: ImageToEmbed[] = [];
  for (const r of records.values()) {
    const name = imageNameOf(r.id);
    const file = alignedFileOfImage(folder.dir, name, folder.variant);
    if (file !== null) images.push({ name, file });
  }
  return images;
}

export interface LooRunInput {
  images: readonly ImageToEmbed[];
  embeddings: Embeddings;
  records: ReadonlyMap<string, EcafRecord>;
  model: Pick<Embedder, 'info' | 'dim' | 'preprocessing'>;
  flip: boolean;
  imagesDir: string;
  date: string;
  product: BlockProduct;
  childMaxAge: number;
  adultMinAge: number;
  signal?: AbortSignal;
}

/** Leave-one-out over the embedded images of `images`, as a report. */
export async function leaveOneOutReport(i: LooRunInput): Promise<LooReport> {
  const have = i.images.filter((im) => embeddingOf(i.embeddings, im.name) !== undefined);
  const dim = i.embeddings.dim;
  const m = new Float32Array(have.length * dim);
  have.forEach((im, k) => m.set(embeddingOf(i.embeddings, im.name)!, k * dim));
  const rec = have.map((im) => i.records.get(idOfImageName(im.name)!)!);
  const t0 = performance.now();
  const result = await leaveOneOutIdentification(
    m,
    rec.map((r) => r.identity),
    Float64Array.from(rec, (r) => r.age ?? Number.NaN),
    dim,
    { product: i.product, childMaxAge: i.childMaxAge, adultMinAge: i.adultMinAge, signal: i.signal },
  );
  const { info } = i.model;
  return {
    tool: 'ecaf',
    version: VERSION,
    date: i.date,
    protocol: 'leave-one-out',
    model: { kind: info.kind, model: info.model, device: info.device, details: info.details, dim, weightsSha256: info.weightsKey.replace(/^builtin:/, '') },
    preprocessing: i.model.preprocessing,
    flip: { enabled: i.flip, rule: i.flip ? info.flipRule : null },
    images: { folder: i.imagesDir },
    leaveOneOut: result,
    seconds: (performance.now() - t0) / 1000,
  };
}
