/** What `ecaf align` prints when done: counts, ids without a face, and how to fix them by hand. */
import { DETECTORS, FFHQ_RELEASE_SIZE, type AlignSummary } from '../../align/index.js';
import { formatDuration } from '../../util/progress.js';

function list(items: string[], max = 20): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} ... and ${items.length - max} more`;
}

/** What the run found of img_ffhq's sizes in the root and which it kept: a root is never made of two sizes silently. */
function ffhqSizeLine(s: AlignSummary): string | undefined {
  if (!s.ffhq) return undefined;
  const { size, from, found } = s.ffhq;
  const others = Object.entries(found).filter(([k]) => Number(k) !== size);
  const otherCount = others.reduce((a, [, n]) => a + n, 0);
  const redone = otherCount ? `; its ${otherCount} at ${others.map(([k, n]) => `${k}x${k} (${n})`).join(', ')} ${otherCount === 1 ? 'is' : 'are'} redone at ${size}x${size}` : '';
  if (from === 'root' && (size !== FFHQ_RELEASE_SIZE || otherCount)) {
    return `  img_ffhq: kept at ${size}x${size}, the size of ${found[size]} aligned face${found[size] === 1 ? '' : 's'} this root holds${redone} (--ffhq-size ${FFHQ_RELEASE_SIZE} makes the release's size, redoing them)`;
  }
  if (from === 'option' && otherCount) return `  img_ffhq: at ${size}x${size} (--ffhq-size ${size})${redone}`;
  return undefined;
}

export function formatAlignSummary(s: AlignSummary): string {
  const c = s.counts;
  const lines = [
    `align: ${s.records} records${s.invalidRecords ? ` (${s.invalidRecords} invalid skipped)` : ''}: ${c.ok} ok (${s.alignedNow} aligned now, ${s.alreadyDone} already done), ` +
      `${c.no_face} no_face, ${c.decode_error} decode_error, ${c.missing_image} missing_image${s.interrupted ? ' (interrupted: rerun to go on)' : ''}`,
    `  landmarks of ok faces: detector ${s.sources.detector}, rectangle ${s.sources.rectangle}, override ${s.sources.override}; ` +
      `faces by detector: ${DETECTORS.map((d) => `${d} ${s.detectors[d] ?? 0}`).join(', ')} (this run: ${s.detector})`,
  ];
  const ffhq = ffhqSizeLine(s);
  if (ffhq) lines.push(ffhq);
  const kept = DETECTORS.filter((d) => s.keptOtherDetector[d]);
  if (kept.length) {
    lines.push(`  kept ${kept.map((d) => `${s.keptOtherDetector[d]} line${s.keptOtherDetector[d] === 1 ? '' : 's'} of detector ${d}`).join(', ')} as they were`);
  }
  if (s.redetected) lines.push(`  redetected ${s.redetected} id${s.redetected === 1 ? '' : 's'} that another detector had done, with ${s.detector}`);
  if (s.processed > 0) {
    const per = (v: number) => `${(v / s.processed).toFixed(3)} s`;
    const t = s.timings;
    lines.push(
      `  ${s.processed} photo${s.processed === 1 ? '' : 's'} in ${formatDuration(s.wallSeconds)} with ${s.workers} worker${s.workers === 1 ? '' : 's'} ` +
        `(${(s.processed / s.wallSeconds).toFixed(2)} photos/s, start-up ${s.startupSeconds.toFixed(1)} s, ${s.facesFound} faces found); per photo: decode ${per(t.decode)}, ` +
        `detection ${per(t.detect)}, landmarks ${per(t.landmarks)}, ffhq ${per(t.ffhq)}, mtcnn ${per(t.mtcnn)}, encode+write ${per(t.write)}`,
    );
  }
  if (s.keptFailures > 0) {
    lines.push(`  ${s.keptFailures} no_face/decode_error result${s.keptFailures === 1 ? '' : 's'} of earlier runs kept: photo and face rectangle unchanged`);
  }
  if (s.noFace.length) lines.push(`  no face found (${s.noFace.length}): ${list(s.noFace)}`);
  if (s.decodeErrors.length) lines.push(`  decode errors (${s.decodeErrors.length}): ${list(s.decodeErrors.map((e) => `${e.id} (${e.error})`), 10)}`);
  if (s.missingImages.length) lines.push(`  missing images (${s.missingImages.length}): ${list(s.missingImages.map((e) => `${e.id} (${e.error})`), 10)}`);
  if (s.unusedOverrides.length) lines.push(`  override entries for ids not in data.json: ${list(s.unusedOverrides)}`);
  if (s.noFace.length) {
    lines.push(
      `  to fix a face by hand (also a wrong face picked in a group photo): put {"<id>": {"points5": [[x, y] x 5]}} (left eye, right eye, nose, left and right mouth corner) ` +
        `or {"<id>": {"landmarks68": [...]}} in ${s.overrideFile} and run ecaf align again; see also ${s.landmarksFile}`,
    );
  }
  return lines.join('\n');
}
