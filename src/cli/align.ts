import os from 'node:os';
import { align, DETECTORS, FFHQ_NVLABS_SIZE, FFHQ_RELEASE_SIZE, MTCNN_SETTINGS, NO_RAW_FILE, type AlignSummary, type DetectorName } from '../align/index.js';
import { formatAlignSummary } from './summaries/align.js';
import { rootOption, runInterruptible, shardArg, shardOption, type EcafCommand } from './command.js';

interface AlignArgs {
  root: string;
  ffhqSize?: number;
  mtcnnSize: number;
  workers: number;
  force: boolean;
  retryFailed: boolean;
  skipInvalid: boolean;
  ffhqFast: boolean;
  detector: DetectorName;
  detectSize: number;
  minFace: number;
  pnetThreshold: number;
  rnetThreshold: number;
  onetThreshold: number;
  redetect: boolean;
  shard?: string;
}

const [P, R, O] = MTCNN_SETTINGS.thresholds;

export const alignCommand: EcafCommand = {
  command: 'align',
  describe: 'detect faces in image_data/raw/ and write FFHQ (img_ffhq/) and 5-point (img_mtcnn/) crops',
  builder: (y) =>
    y
      .options({
        ...rootOption,
        ...shardOption,
        'ffhq-size': {
          type: 'number',
          describe: `side of the FFHQ-aligned PNGs (default ${FFHQ_RELEASE_SIZE}, as ECAF released them; a root already aligned at another size keeps it; ${FFHQ_NVLABS_SIZE}: NVlabs' FFHQ)`,
        },
        'mtcnn-size': { type: 'number', default: 112, describe: 'side of the 5-point aligned JPEGs (template scaled as insightface does)' },
        workers: { type: 'number', default: os.availableParallelism(), describe: 'worker threads, one face-api model copy each' },
        force: { type: 'boolean', default: false, describe: 'redo ids already aligned' },
        'retry-failed': { type: 'boolean', default: false, describe: 'try again the no_face and decode_error ids whose photo has not changed (kept by default)' },
        'skip-invalid': { type: 'boolean', default: false, describe: 'go on with the valid records when data.json has invalid ones' },
        'ffhq-fast': { type: 'boolean', default: false, describe: "skip FFHQ's 4x transform step: faster, not the published procedure (aliases faces larger than the output)" },
        detector: { choices: DETECTORS, default: 'mtcnn', describe: "face detector: mtcnn (ECAF's own, its 5 points make img_mtcnn) or ssd (face-api's, the previous default)" },
        'detect-size': { type: 'number', default: MTCNN_SETTINGS.detectSize, describe: 'mtcnn: photos are shrunk to this longest side before detection (larger finds smaller faces, slower)' },
        'min-face': { type: 'number', default: MTCNN_SETTINGS.minFace, describe: 'mtcnn: smallest face side looked for, in pixels of the detection-size image (>= 12)' },
        'pnet-threshold': { type: 'number', default: P, describe: 'mtcnn: face probability stage 1 (P-Net) needs' },
        'rnet-threshold': { type: 'number', default: R, describe: 'mtcnn: face probability stage 2 (R-Net) needs' },
        'onet-threshold': { type: 'number', default: O, describe: 'mtcnn: face probability stage 3 (O-Net) needs: a face is kept above it' },
        redetect: { type: 'boolean', default: false, describe: 'find the faces again of ids whose line another detector made (kept by default)' },
      })
      .example('ecaf align --root ecaf', 'align every crawled photo of ecaf/ (a rerun skips what is done)')
      .example('ecaf align --root ecaf --ffhq-size 1024', "FFHQ crops at 1024x1024, NVlabs' FFHQ size (default 512, ECAF's)")
      .example('ecaf align --root ecaf --retry-failed', 'also try again the photos that gave no face or did not decode, though unchanged')
      .example('ecaf align --root ecaf --detector ssd', "face-api's SSD detector instead of MTCNN, for comparison")
      .example('ecaf align --root ecaf --redetect', 'redo with MTCNN the ids an earlier (SSD) version aligned')
      .example('ecaf align --root ecaf --min-face 12 --detect-size 1600', 'look for smaller faces (slower)')
      .example('ecaf align --root ecaf --shard 1/2 --workers 1', 'align half of the ids (one task of two; log in image_data/logs/landmarks.1-of-2.jsonl)')
      .example('ecaf align --root ecaf --force', 'redo every photo, also those already aligned (an edited landmarks-override.json needs no --force)'),
  handler: async (args: AlignArgs) => {
    const options = {
      root: args.root,
      ffhqSize: args.ffhqSize,
      mtcnnSize: args.mtcnnSize,
      workers: args.workers,
      force: args.force,
      retryFailed: args.retryFailed,
      skipInvalid: args.skipInvalid,
      ffhqFast: args.ffhqFast,
      detector: args.detector,
      mtcnn: { detectSize: args.detectSize, minFace: args.minFace, thresholds: [args.pnetThreshold, args.rnetThreshold, args.onetThreshold] as [number, number, number] },
      redetect: args.redetect,
      shard: shardArg(args.shard),
    };
    return runInterruptible(
      (signal) => align({ ...options, signal }),
      (summary) => process.stdout.write(`${formatAlignSummary(summary)}\n${alignHints(summary)}`),
    );
  },
};

/** Which flags (or command) would redo what this run kept or could not do, a line each. */
function alignHints(s: AlignSummary): string {
  const hints: string[] = [];
  const unfetched = s.missingImages.filter((m) => m.error === NO_RAW_FILE).length;
  if (unfetched > 0) hints.push(`  ecaf crawl fetches the ${unfetched} photo${unfetched === 1 ? '' : 's'} with ${NO_RAW_FILE}; align again after it`);
  if (s.keptFailures > 0) hints.push(`  --retry-failed tries the ${s.keptFailures} kept no_face/decode_error results again`);
  if (Object.values(s.keptOtherDetector).some(Boolean)) hints.push(`  --redetect finds the faces of the kept lines of other detectors again with ${s.detector}`);
  return hints.map((h) => `${h}\n`).join('');
}
