import { promises as fs } from 'node:fs';
import { datasetLayout, type DatasetLayout } from '../dataset/layout.js';
import { idOfRawFileName } from '../dataset/names.js';
import { loadDataJson } from '../dataset/load.js';
import type { EcafRecord } from '../dataset/record.js';
import { readStageStates } from '../distribute/logs.js';
import { inShard } from '../distribute/shard.js';
import { runStage } from '../stage.js';
import { Progress } from '../util/progress.js';
import type { LandmarksLine } from './line.js';
import { readOverrides } from './override.js';
import { unusedOverrides, type AlignInput, type CrawlState } from './plan.js';
import { alignSettings, alignStage, type AlignOptions } from './stage.js';
import type { AlignSummary } from './summary.js';

export * from './similarity.js';
export * from './template.js';
export * from './ffhq.js';
export { FFHQ_RELEASE_SIZE, FFHQ_NVLABS_SIZE, chooseFfhqSize, ffhqSizesFound, type FfhqSizeChoice, type FfhqSizeSource } from './ffhq-size.js';
export { ffhqPad, gaussianBlur, gaussianBlurExact, median } from './ffhq-pad.js';
export { alignFfhq, ffhqSource, quadInverse } from './ffhq-image.js';
export { warpAffine, cropRgb, transformResize, lanczosTaps, type ResizeTaps } from './warp.js';
export * from './select.js';
export * from './line.js';
export { readOverrides, type LandmarkOverride } from './override.js';
export { alignImage, alignMtcnn, type AlignImageTask, type AlignTimings, type AlignImageResult } from './align-image.js';
export { FaceDetector, DETECT_MAX_SIDE, MIN_CONFIDENCE, DETECTORS, MTCNN_SETTINGS, MTCNN_DETECT_SIZE, type DetectorName, type MtcnnSettings } from './detect.js';
export { ModelFileError, MTCNN_MODEL_DIR } from './mtcnn/nets.js';
export { planAlign, planRecord, rawFileOf, unusedOverrides, NO_RAW_FILE, type AlignInput, type AlignTask, type AlignAction, type AlignPolicy, type CrawlState } from './plan.js';
export { alignStage, alignSettings, type AlignOptions, type AlignReadFacts } from './stage.js';
export { ALIGN_OUTCOMES, addAlignOutcome, emptyAlignFacts, summarizeAlign, type AlignOutcome, type AlignOutcomeCode, type AlignFacts, type AlignRunFacts, type AlignSummary } from './summary.js';

/** raw/ file names by id: `<id>.<ext>` with a crawl extension (ids may hold dots). */
async function rawFilesById(layout: DatasetLayout): Promise<Map<string, string[]>> {
  const byId = new Map<string, string[]>();
  let names: string[] = [];
  try {
    names = await fs.readdir(layout.raw);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const name of names) {
    const id = idOfRawFileName(name);
    if (id !== null) byId.set(id, [...(byId.get(id) ?? []), name]);
  }
  return byId;
}

/** What align plans from, read from the root: the records' logs, overrides and raw/ listing. */
export async function readAlignInput(root: string, records: readonly EcafRecord[]): Promise<AlignInput> {
  const layout = datasetLayout(root);
  const [overrides, crawl, previous, raw] = await Promise.all([
    readOverrides(layout.landmarksOverride),
    readStageStates<CrawlState>(layout, 'crawl'),
    readStageStates<LandmarksLine>(layout, 'landmarks'),
    rawFilesById(layout),
  ]);
  return { records, overrides, crawl, previous, raw };
}

/**
 * Align every record of `<root>/image_data/data.json` whose photo crawl stored: read the
 * inputs, then run the stage (alignStage) on all records, or on one shard's.
 */
export async function align(options: AlignOptions): Promise<AlignSummary> {
  const started = performance.now();
  alignSettings(options); // before data.json is read: a bad option is refused at once
  const layout = datasetLayout(options.root);
  const loaded = await loadDataJson(layout.dataJson, { skipInvalid: options.skipInvalid });
  const input = await readAlignInput(options.root, loaded.records);
  const stage = alignStage(options, {
    readSeconds: (performance.now() - started) / 1000,
    invalidRecords: loaded.summary.invalidCount,
    unusedOverrides: unusedOverrides(input),
  });
  const shard = options.shard;
  const live = { ok: 0, no_face: 0, failed: 0, earlier: 0 };
  const progress =
    options.progress === false
      ? undefined
      : new Progress({
          label: 'align',
          // a shard holds about 1/N of the records
          total: shard ? Math.ceil(loaded.records.length / shard.count) : loaded.records.length,
          unit: 'img',
          // `earlier`: results of earlier runs kept (already aligned, or a failure on an unchanged photo)
          extra: () => `ok ${live.ok} no_face ${live.no_face} failed ${live.failed} earlier ${live.earlier}`,
        });
  try {
    return await runStage(stage, input, {
      signal: options.signal,
      progress,
      select: shard ? (t) => inShard(t.id, shard) : undefined,
      sink: (o) => {
        if (o.code === 'ok') live.ok++;
        else if (o.code === 'no_face') live.no_face++;
        else if (o.code === 'decode_error') live.failed++;
        else if (o.code === 'already_done' || o.code === 'kept_failure') live.earlier++;
      },
    });
  } finally {
    progress?.finish();
  }
}
