/**
 * `audit` as a stage (src/stage.ts): every aligned image of the root embedded (through the
 * embedding cache benchmark uses; `embedOnly` with a shard fills it in parts) and hashed, then
 * the findings (exact and near duplicates, identity outliers, records the image no longer
 * matches, the pairs they touch) written to reports/<model>/audit/.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import { readStageStates } from '../distribute/logs.js';
import { inShard, type Shard } from '../distribute/shard.js';
import { datasetLayout } from '../dataset/layout.js';
import { loadDataJson } from '../dataset/load.js';
import { alignedFileOfImage, idOfImageName, imageNameOf } from '../dataset/names.js';
import type { EcafRecord } from '../dataset/record.js';
import { embedImages, IMAGE_OUTCOMES, type ImageOutcome, type ImageToEmbed } from '../models/embed-pipeline.js';
import { modelStem, openEmbedder, type OpenEmbedderOptions } from '../models/open.js';
import type { PairList } from '../pairs/pair-list.js';
import { readPairFile } from '../pairs/read.js';
import { drawRowSheet } from '../sheet/rows.js';
import { openOnnxBlockProduct } from '../similarity/onnx-gemm.js';
import { runStage, type Stage, type StageOutcome, type StageResult, type StageTask } from '../stage.js';
import { VERSION } from '../version.js';
import { inconsistencies, iou, MIN_IOU, GENDER_CERTAINTY, type ConsistencyRecord } from './consistency.js';
import { pairContamination, pairFileEffect, type ScoredRow } from './contamination.js';
import { exactDuplicates } from './exact.js';
import { flaggedIds, type AuditFindings } from './findings.js';
import { nearDuplicates, NEAR_COSINE, NEAR_HASH_BITS } from './near.js';
import { fitsNeighbourShard, neighbourShardFile, searchKey, searchNeighbours, writeNeighbourShard } from './neighbour-shards.js';
import { nearestNeighbours } from './neighbours.js';
import { AGE_WINDOW, identityOutliers, OUTLIER_MARGIN } from './outliers.js';
import { hashOfFile } from './phash.js';
import { writeAuditReport, type AuditReport } from './report.js';

export interface AuditOptions extends Omit<OpenEmbedderOptions, 'log'> {
  root: string;
  model: string;
  flip?: boolean;
  out?: string;
  /** Only embed (this shard's images) into the cache; a later plain run audits from it. */
  embedOnly?: boolean;
  /** Only search this shard's part of the neighbours (every image embedded, from the cache where it is) into neighbours/; a later plain run merges them. */
  searchOnly?: boolean;
  shard?: Shard;
  signal?: AbortSignal;
  progress?: boolean;
  log?: (line: string) => void;
}

export interface AuditInput {
  records: ReadonlyMap<string, EcafRecord>;
  images: ImageToEmbed[];
}

interface AuditTask extends StageTask {
  image: ImageToEmbed;
}

export type AuditOutcome = StageOutcome<ImageOutcome>;

export interface AuditRun extends StageResult<ImageOutcome> {
  dir: string;
  report?: AuditReport;
  sheet?: string;
  /** searchOnly: the shard file written. */
  neighbours?: string;
}

/** Neighbours per image the near-duplicate and outlier searches look at. */
const NEIGHBOURS = 10;
/** Faces of one photo overlapping this much are one face. */
const SAME_FACE_IOU = 0.5;

export const auditDir = (o: Pick<AuditOptions, 'root' | 'model' | 'out'>): string => (o.out ? path.resolve(o.out) : path.join(datasetLayout(o.root).reports, modelStem(o.model), 'audit'));

/** Every data.json record's aligned face; without a data.json, every crop of img_mtcnn/. */
async function auditImages(mtcnn: string, records: ReadonlyMap<string, EcafRecord>): Promise<ImageToEmbed[]> {
  if (records.size) return [...records.values()].map((r) => ({ name: imageNameOf(r.id), file: alignedFileOfImage(mtcnn, imageNameOf(r.id), 'mtcnn')! }));
  const names = await fs.readdir(mtcnn).catch(() => [] as string[]);
  return names.filter((n) => /\.(jpe?g|png)$/i.test(n)).sort().map((n) => ({ name: n, file: path.join(mtcnn, n) }));
}

export function auditStage(o: AuditOptions): Stage<AuditInput, AuditTask, ImageOutcome, AuditOutcome, AuditRun> {
  const layout = datasetLayout(o.root);
  const dir = auditDir(o);
  const log = o.log ?? ((l: string) => process.stderr.write(`ecaf: ${l}\n`));
  let records: ReadonlyMap<string, EcafRecord> = new Map();
  let written: { report?: AuditReport; sheet?: string; neighbours?: string } = {};
  // a search shard embeds every image (the cache holds most), writing what it adds under its own tag
  const cacheTag = o.shard ? `${o.searchOnly ? 'search-' : ''}shard-${o.shard.index}-of-${o.shard.count}` : undefined;
  let stopped = false;
  return {
    name: 'audit',
    codes: IMAGE_OUTCOMES,
    plan(input) {
      records = input.records;
      return input.images.map((image) => ({ id: idOfImageName(image.name) ?? image.name, image }));
    },
    async run(tasks, { signal, progress, sink }) {
      const given: AuditTask[] = [];
      for await (const t of tasks) given.push(t);
      const embedder = await openEmbedder(o.model, { ...o, log });
      try {
        const e = await embedImages(embedder, given.map((t) => t.image), {
          flip: o.flip ?? true,
          batch: o.batch,
          progress: o.progress,
          signal,
          cacheRoot: layout.cache,
          cacheTag,
          onOutcome: (at, code) => {
            sink({ id: given[at]!.id, code });
            if (code !== 'dropped') progress?.tick();
          },
        });
        stopped = e.interrupted;
        if (o.embedOnly || e.interrupted) return;
        const have = given.map((_, i) => i).filter((i) => e.vectors[i]);
        const ids = have.map((i) => given[i]!.id);
        const dim = e.dim;
        const x = new Float32Array(have.length * dim);
        have.forEach((i, r) => x.set(e.vectors[i]!, r * dim));
        const gemm = await openOnnxBlockProduct();
        let neighbours;
        try {
          if (o.searchOnly && o.shard) {
            const { index, count } = o.shard;
            const key = searchKey(ids, x, dim, NEIGHBOURS);
            const file = neighbourShardFile(dir, index, count);
            if (await fitsNeighbourShard(file, key, index, count)) log(`neighbours: ${file} is this shard's search of these embeddings already: kept`);
            else await writeNeighbourShard(dir, index, count, key, await nearestNeighbours(x, have.length, dim, { k: NEIGHBOURS, product: gemm.product, signal, shards: { count, take: [index] } }));
            written = { neighbours: file };
            return;
          }
          neighbours = await searchNeighbours({ ids, x, dim, k: NEIGHBOURS, product: gemm.product, dir, signal, log });
        } finally {
          await gemm.close();
        }
        const male = have.map((i) => e.estimates?.[i]?.[1] ?? Number.NaN);
        const limit = pLimit(4);
        const hashes = new Uint32Array(2 * have.length).fill(0xffffffff);
        const hashed = new Uint8Array(have.length);
        await Promise.all(have.map((i, r) => limit(async () => {
          const h = await hashOfFile(given[i]!.image.file).catch(() => undefined);
          if (h) [hashes[2 * r], hashes[2 * r + 1], hashed[r]] = [h[0], h[1], 1];
        })));
        const findings = await findingsOf({ layout, records, ids, x, dim, male, hashes, hashed, neighbours });
        const report: AuditReport = {
          tool: 'ecaf',
          version: VERSION,
          date: new Date().toISOString(),
          model: { name: modelStem(o.model), file: embedder.info.model, dim, weightsSha256: embedder.info.weightsKey },
          images: { total: given.length, embedded: have.length, missing: given.length - have.length },
          thresholds: { nearHashBits: NEAR_HASH_BITS, nearCosine: NEAR_COSINE, outlierMargin: OUTLIER_MARGIN, outlierAgeWindow: AGE_WINDOW, minIou: MIN_IOU, genderCertainty: GENDER_CERTAINTY, neighbours: NEIGHBOURS },
          ...findings,
        };
        await fs.mkdir(dir, { recursive: true });
        const fileOf = new Map(have.map((i) => [given[i]!.id, given[i]!.image.file]));
        const rows = [
          ...report.duplicates.map((d) => ({ label: `${d.kind}${d.identities.length > 1 ? ' across identities' : ''}: ${d.ids[0]}${d.ids.length > 1 ? ` +${d.ids.length - 1}` : ''}`, files: d.ids.slice(0, 8).flatMap((id) => (fileOf.has(id) ? [fileOf.get(id)!] : [])) })),
          ...report.outliers.filter((f) => fileOf.has(f.id)).map((f) => ({ label: `${f.id} (${f.identity} -> ${f.suspected})`, files: [fileOf.get(f.id)!] })),
          ...report.inconsistent.filter((i) => fileOf.has(i.id)).map((i) => ({ label: `${i.id}: ${i.problem}`, files: [fileOf.get(i.id)!] })),
        ];
        const sheet = path.join(dir, 'flagged.png');
        if (rows.length) await drawRowSheet(sheet, rows, `Audit of ${layout.root} with ${modelStem(o.model)}: ${rows.length} flagged groups`);
        await writeAuditReport(dir, report);
        written = { report, ...(rows.length ? { sheet } : {}) };
      } finally {
        await embedder.close();
      }
    },
    summarize: (tally, interrupted, seconds) => ({ stage: 'audit', interrupted: interrupted || stopped, outcomes: tally.counts, seconds, dir, ...written }),
  };
}

interface FindingsInput {
  layout: ReturnType<typeof datasetLayout>;
  records: ReadonlyMap<string, EcafRecord>;
  ids: string[];
  x: Float32Array;
  dim: number;
  male: number[];
  hashes: Uint32Array;
  hashed: Uint8Array;
  neighbours: Awaited<ReturnType<typeof nearestNeighbours>>;
}

/** The findings from the embeddings and hashes, with the logs, data.json and pair files of the root. */
async function findingsOf(s: FindingsInput): Promise<AuditFindings> {
  const identityOf = (id: string) => s.records.get(id)?.identity ?? id;
  const identity = s.ids.map(identityOf);
  const crawl = await readStageStates<{ id: string; status: string; sha256?: string }>(s.layout, 'crawl');
  const sha = new Map<string, string>();
  for (const [id, st] of crawl) if (st.status === 'ok' && st.sha256) sha.set(id, st.sha256);
  const landmarks = await readStageStates<{ id: string; status: string; source?: string; box?: [number, number, number, number] }>(s.layout, 'landmarks');
  const duplicates = exactDuplicates(sha, identityOf, (a, b) => sameFace(s.records.get(a), s.records.get(b), landmarks.get(a)?.box, landmarks.get(b)?.box));
  const near = nearDuplicates({ ids: s.ids, identity, hashes: s.hashes, hashed: s.hashed, neighbours: s.neighbours, sameBytes: (i, j) => sha.has(s.ids[i]!) && sha.get(s.ids[i]!) === sha.get(s.ids[j]!) });
  duplicates.push(...near);
  const outliers = identityOutliers({ ids: s.ids, identity, age: s.ids.map((id) => s.records.get(id)?.age ?? Number.NaN), x: s.x, dim: s.dim, neighbours: s.neighbours });
  const maleOf = new Map(s.ids.map((id, r) => [id, s.male[r]!]));
  const consistency: ConsistencyRecord[] = [...s.records.values()].map((r) => ({ id: r.id, rectangle: r.faceRectangle, gender: r.gender, align: landmarks.get(r.id), male: maleOf.get(r.id) ?? Number.NaN }));
  const inconsistent = inconsistencies(consistency);
  const flagged = flaggedIds({ duplicates, outliers, inconsistent });
  const pairs: AuditFindings['pairs'] = [];
  const pairFiles: AuditFindings['pairFiles'] = [];
  const files = (await fs.readdir(s.layout.pairs).catch(() => [] as string[])).filter((n) => n.endsWith('.txt')).sort();
  for (const name of files) {
    const file = path.join(s.layout.pairs, name);
    const list: PairList = await readPairFile(file);
    const found = pairContamination(list, flagged, duplicates);
    pairs.push(...found);
    pairFiles.push(pairFileEffect(list, found, await reportScores(s.layout.reports, path.basename(name, '.txt'))));
  }
  return { duplicates, outliers, inconsistent, pairs, pairFiles };
}

/** Two records of one photo show the same face: their Face++ rectangles overlap, or (without them) their aligned boxes do; with neither, they are taken as one. */
function sameFace(a: EcafRecord | undefined, b: EcafRecord | undefined, boxA?: [number, number, number, number], boxB?: [number, number, number, number]): boolean {
  const ra = a?.faceRectangle;
  const rb = b?.faceRectangle;
  if (ra && rb) return iou([ra.left, ra.top, ra.width, ra.height], rb) >= SAME_FACE_IOU;
  if (boxA && boxB) return iou(boxA, { left: boxB[0], top: boxB[1], width: boxB[2], height: boxB[3] }) >= SAME_FACE_IOU;
  return true;
}

/** The scores.csv of a benchmark report of this pair file (the first model folder that has one, by name). */
async function reportScores(reports: string, pairsName: string): Promise<{ rows: ScoredRow[]; report: string } | undefined> {
  const models = (await fs.readdir(reports).catch(() => [] as string[])).sort();
  for (const m of models) {
    const file = path.join(reports, m, pairsName, 'scores.csv');
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const rows = text.trim().split('\n').slice(1).map((l) => {
      const [index, fold, label, score] = l.split(',');
      return { index: Number(index), fold: Number(fold), same: label === '1', score: Number(score) };
    });
    return { rows, report: path.dirname(file) };
  }
  return undefined;
}

export async function runAudit(o: AuditOptions): Promise<AuditRun> {
  const layout = datasetLayout(o.root);
  const records = await fs.access(layout.dataJson).then(
    async () => new Map((await loadDataJson(layout.dataJson, { skipInvalid: true })).records.map((r) => [r.id, r])),
    () => new Map<string, EcafRecord>(),
  );
  const images = await auditImages(layout.mtcnn, records);
  // a search shard needs every image's embedding; an embedding shard embeds its own images
  const shard = o.searchOnly ? undefined : o.shard;
  return runStage(auditStage(o), { records, images }, { signal: o.signal, ...(shard ? { select: (t: AuditTask) => inShard(t.id, shard) } : {}) });
}
