/**
 * Record consistency: the aligned face against what data.json's Face++ attributes say the image
 * shows (its face_rectangle, its gender). A crawled image with no face near the rectangle is
 * most likely "the link now serves another image". Pure.
 */
import type { FaceRectangle, Gender } from '../dataset/record.js';
import type { InconsistencyFinding } from './findings.js';

/** Below this IoU the aligned face is not the face Face++ saw (align's rectangle fallback uses overlap too: docs/align.md). */
export const MIN_IOU = 0.3;
/** The estimate must say the other gender at least this surely (probability distance from 0.5, times 2). */
export const GENDER_CERTAINTY = 0.6;

export interface ConsistencyRecord {
  id: string;
  rectangle?: FaceRectangle;
  gender?: Gender;
  /** landmarks.jsonl's last line of the id. */
  align?: { status: string; source?: string; box?: [number, number, number, number] };
  /** The model's probability of male for the aligned face (NaN: none). */
  male: number;
}

export function iou(a: [number, number, number, number], r: FaceRectangle): number {
  const [x, y, w, h] = a;
  const ix = Math.max(0, Math.min(x + w, r.left + r.width) - Math.max(x, r.left));
  const iy = Math.max(0, Math.min(y + h, r.top + r.height) - Math.max(y, r.top));
  const inter = ix * iy;
  const union = w * h + r.width * r.height - inter;
  return union > 0 ? inter / union : 0;
}

export function inconsistencies(records: readonly ConsistencyRecord[]): InconsistencyFinding[] {
  const out: InconsistencyFinding[] = [];
  for (const r of records) {
    const a = r.align;
    if (r.rectangle && a?.status === 'no_face') {
      out.push({ id: r.id, problem: 'no-face', iou: null, detail: 'data.json gives a face rectangle; the crawled image has no face the detector finds', confidence: 0.9 });
      continue;
    }
    if (a?.status !== 'ok') continue;
    const overlap = r.rectangle && a.box ? iou(a.box, r.rectangle) : null;
    if (r.rectangle && a.source === 'rectangle') {
      out.push({ id: r.id, problem: 'face-elsewhere', iou: overlap, detail: 'no detected face overlaps data.json\'s face rectangle (align fell back to the rectangle): the link may now serve another image', confidence: 0.8 });
    } else if (overlap !== null && a.source === 'detector' && overlap < MIN_IOU) {
      out.push({ id: r.id, problem: 'face-moved', iou: overlap, detail: `the aligned face overlaps data.json's face rectangle by IoU ${overlap.toFixed(2)}`, confidence: Math.min(1, 1 - overlap / MIN_IOU + 0.2) });
    }
    if (r.gender && Number.isFinite(r.male)) {
      const says: Gender = r.male > 0.5 ? 'male' : 'female';
      const sure = Math.abs(r.male - 0.5) * 2;
      if (says !== r.gender && sure >= GENDER_CERTAINTY) out.push({ id: r.id, problem: 'gender', iou: overlap, detail: `data.json says ${r.gender}; the model says ${says} (p = ${r.male.toFixed(2)} male)`, confidence: sure });
    }
  }
  return out.sort((a, b) => b.confidence - a.confidence || a.id.localeCompare(b.id));
}
