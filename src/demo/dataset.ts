import { readFile } from 'node:fs/promises';
import sharp, { type Region, type Sharp } from 'sharp';
import type { DemoFace } from './faces.js';
import type { DemoRoute } from './server.js';

/**
 * The demo's data.json and the web site it points at. Each face found in the sample photos is
 * one identity, seen in four images: the group photo (with a Face++-style rectangle so align
 * picks that face) and three pictures cut from it. Ages and genders are face-api's estimates;
 * the "child" picture is NOT a childhood photo: that label is invented so the missing-children
 * protocol has something to pair, and the record says so.
 */
export interface DemoSite {
  /** URL path -> what the server answers. */
  routes: Map<string, DemoRoute>;
  /** The data.json records, given the server's base URL (http://127.0.0.1:PORT). */
  records(baseUrl: string): DemoRecord[];
  identities: number;
}

export type DemoRecord = Record<string, unknown> & { id: string; image_url: string };

/** How each picture of an identity is made from its face box; `side` is the square crop's side over the box's longer side. */
interface Variant {
  suffix: string;
  side: number;
  size: number;
  ext: 'jpg' | 'png' | 'webp';
  make: (img: Sharp) => Sharp;
  /** Invented label (never an estimate): shown in the record. */
  invented?: string;
}

const VARIANTS: Variant[] = [
  { suffix: 'adult_002', side: 2.2, size: 480, ext: 'jpg', make: (i) => i.jpeg({ quality: 90 }) },
  { suffix: 'adult_003', side: 2.0, size: 400, ext: 'png', make: (i) => i.flop().modulate({ brightness: 1.15 }).png() },
  {
    suffix: 'child_001',
    side: 2.0,
    size: 256,
    ext: 'webp',
    make: (i) => i.blur(0.8).modulate({ saturation: 0.5 }).webp({ quality: 80 }),
    invented:
      'INVENTED label "child": this is a blurred, faded crop of the same photo, not a childhood photo; the demo needs child photos for the missing-children protocol and has none',
  },
];

const CONTENT_TYPES = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp' } as const;
/** Where the photos really come from (kept in data.json as source_url, never fetched). */
const SOURCE_PAGE = 'https://github.com/vladmandic/face-api/tree/master/demo';
/** A corner of sample1.jpg with no face in it (wall and picture frames): align must say no_face. */
const NO_FACE_REGION = { photo: 1, left: 0, top: 0, width: 420, height: 300 };

export const identityName = (f: Pick<DemoFace, 'photo' | 'face'>): string => `sample${f.photo}_face${f.face}`;

/** Square crop of side `scale` x the box's longer side around the face centre, kept inside the photo. */
export function cropAround(box: DemoFace['box'], scale: number, width: number, height: number): Region {
  const side = Math.min(Math.round(scale * Math.max(box.width, box.height)), width, height);
  const cx = box.left + box.width / 2;
  const cy = box.top + box.height / 2;
  const left = Math.min(Math.max(0, Math.round(cx - side / 2)), width - side);
  const top = Math.min(Math.max(0, Math.round(cy - side / 2)), height - side);
  return { left, top, width: side, height: side };
}

export async function buildDemoSite(faces: readonly DemoFace[], photos: readonly string[]): Promise<DemoSite> {
  const routes = new Map<string, DemoRoute>();
  const photoBytes = await Promise.all(photos.map((p) => readFile(p)));
  const sizes = await Promise.all(photoBytes.map((b) => sharp(b).rotate().metadata()));
  photoBytes.forEach((body, i) => routes.set(`/photos/sample${i + 1}.jpg`, { status: 200, type: 'image/jpeg', body }));

  const entries: ((base: string) => DemoRecord)[] = [];
  for (const f of faces) {
    const identity = identityName(f);
    const { width, height } = sizes[f.photo - 1]!;
    const estimates = { age: { value: f.age }, gender: { value: f.gender === 'male' ? 'Male' : 'Female' } };
    const estimatedBy = `face-api ageGenderNet on the group photo (gender probability ${f.genderProbability.toFixed(2)}); estimates, as Face++'s are in ECAF`;
    entries.push((base) => ({
      id: `${identity}_adult_001`,
      image_url: `${base}/photos/sample${f.photo}.jpg`,
      source_url: SOURCE_PAGE,
      faceplusplus: { face_rectangle: f.box, attributes: estimates },
      demo: { picture: `group photo sample${f.photo}.jpg; face_rectangle = face-api's detection (score ${f.score.toFixed(2)})`, estimated_by: estimatedBy },
    }));
    for (const v of VARIANTS) {
      const id = `${identity}_${v.suffix}`;
      const region = cropAround(f.box, v.side, width!, height!);
      const body = await v.make(sharp(photoBytes[f.photo - 1]!).rotate().extract(region).resize(v.size, v.size)).toBuffer();
      routes.set(`/faces/${id}.${v.ext}`, { status: 200, type: CONTENT_TYPES[v.ext], body });
      entries.push((base) => ({
        id,
        image_url: `${base}/faces/${id}.${v.ext}`,
        source_url: SOURCE_PAGE,
        // the invented child picture carries no age: its group decides, and no estimate is pretended
        ...(v.invented ? { gender: f.gender, group: 'child' } : { faceplusplus: { attributes: estimates } }),
        demo: { picture: `cut from sample${f.photo}.jpg around face ${f.face}`, estimated_by: estimatedBy, ...(v.invented ? { label: v.invented } : {}) },
      }));
    }
  }

  // failures the crawl and align summaries must show
  const first = faces[0];
  const portrait = first ? routes.get(`/faces/${identityName(first)}_adult_002.jpg`)!.body : photoBytes[0]!;
  const noFace = await sharp(photoBytes[NO_FACE_REGION.photo - 1]!).rotate().extract(NO_FACE_REGION).jpeg({ quality: 90 }).toBuffer();
  routes.set('/broken/html-page.jpg', { status: 200, type: 'text/html; charset=utf-8', body: Buffer.from('<!doctype html><html><body><h1>Image not available</h1></body></html>\n') });
  routes.set('/broken/truncated.jpg', { status: 200, type: 'image/jpeg', body: portrait.subarray(0, Math.floor(portrait.length * 0.4)) });
  routes.set('/broken/noai.jpg', { status: 200, type: 'image/jpeg', body: portrait, headers: { 'X-Robots-Tag': 'noai, noimageai' } });
  routes.set('/scenery/no-face.jpg', { status: 200, type: 'image/jpeg', body: noFace });
  const broken: [string, string, string][] = [
    ['broken_404_001', '/broken/gone.jpg', 'answers 404'],
    ['broken_html_001', '/broken/html-page.jpg', 'answers 200 with an HTML page'],
    ['broken_truncated_001', '/broken/truncated.jpg', 'answers the first 40% of a JPEG'],
    ['broken_noai_001', '/broken/noai.jpg', 'answers an image with X-Robots-Tag: noai, noimageai'],
    ['scenery_001', '/scenery/no-face.jpg', 'a corner of sample1.jpg with no face: align finds none'],
  ];
  for (const [id, urlPath, what] of broken) {
    entries.push((base) => ({ id, image_url: `${base}${urlPath}`, demo: { picture: `deliberately broken: ${what}` } }));
  }
  return { routes, records: (base) => entries.map((e) => e(base)), identities: faces.length };
}
