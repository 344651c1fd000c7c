import path from 'node:path';
import { alignedFileOfImage, imageNameOf, type AlignedVariant } from '../dataset/names.js';
import type { EcafRecord } from '../dataset/record.js';
import { ageClass, DEFAULT_ADULT_MIN_AGE, DEFAULT_CHILD_MAX_AGE, type AgeClassOptions } from '../pairs/age-class.js';
import type { PairList } from '../pairs/pair-list.js';
import { PairFileError, sidecarPath } from '../pairs/read.js';
import type { ImageToEmbed } from '../models/embed-pipeline.js';

/** One pair file as read: its list and its parsed `.json` sidecar (undefined when there is none). */
export interface PairInput {
  list: PairList;
  sidecar: unknown;
}

/** The aligned folder the images are read from. */
export interface ImagesFolder {
  dir: string;
  variant: AlignedVariant;
}

/** Missing-children protocol: child photos (probes) identified among adult photos (gallery). */
export interface IdentificationPlan extends AgeClassOptions {
  probes: string[];
  gallery: string[];
}

/** What to score for one pair file. */
export interface FilePlan {
  list: PairList;
  /** Only for a list whose sidecar says `"protocol": "children"`. */
  identification?: IdentificationPlan;
}

export interface BenchmarkPlan {
  files: FilePlan[];
  /** Every image any file needs, once, in the order the files first name them. */
  images: ImageToEmbed[];
}

/**
 * What a benchmark run embeds and scores (pure): each list's pairs, plus identification for
 * the children protocol, with the age bounds its sidecar gives. Throws PairFileError for a
 * sidecar with a field of the wrong type, and for an image name that names no id (with its line).
 */
export function planBenchmark(inputs: readonly PairInput[], records: ReadonlyMap<string, EcafRecord>, folder: ImagesFolder): BenchmarkPlan {
  const images = new Map<string, string>();
  const want = (name: string, at: { file: string; line?: number }) => {
    if (images.has(name)) return;
    const file = alignedFileOfImage(folder.dir, name, folder.variant);
    if (file === null) throw new PairFileError(at.file, at.line, `image name ${JSON.stringify(name)} names no record id (nothing is left without its extension)`);
    images.set(name, file);
  };
  const files = inputs.map(({ list, sidecar }): FilePlan => {
    for (const p of list.pairs) {
      want(p.a, { file: list.file, line: p.line });
      want(p.b, { file: list.file, line: p.line });
    }
    const bounds = childrenProtocol(sidecar, list.file);
    if (!bounds) return { list };
    const identification = identificationPlan(records, bounds);
    for (const n of [...identification.probes, ...identification.gallery]) want(n, { file: sidecarPath(list.file) });
    return { list, identification };
  });
  return { files, images: [...images].map(([name, file]) => ({ name, file })) };
}

/** Child and adult photos of data.json, by the given bounds. */
function identificationPlan(records: ReadonlyMap<string, EcafRecord>, bounds: AgeClassOptions): IdentificationPlan {
  const probes: string[] = [];
  const gallery: string[] = [];
  for (const r of records.values()) {
    const c = ageClass(r, bounds);
    if (c === 'child') probes.push(imageNameOf(r.id));
    else if (c === 'adult') gallery.push(imageNameOf(r.id));
  }
  return { probes, gallery, ...bounds };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The age bounds of a children-protocol sidecar (docs/formats.md), undefined for any other
 * list. A JSON file without `protocol` is not an ecaf sidecar (a plain list); one with our
 * fields of the wrong type is corrupt.
 */
function childrenProtocol(sidecar: unknown, listFile: string): AgeClassOptions | undefined {
  if (!isObject(sidecar) || sidecar.protocol === undefined) return undefined;
  const side = sidecarPath(listFile);
  const bad = (field: string, expected: string, value: unknown) =>
    new PairFileError(side, undefined, `sidecar of ${path.basename(listFile)}: "${field}" must be ${expected}, got ${JSON.stringify(value)}`);
  if (typeof sidecar.protocol !== 'string') throw bad('protocol', 'a string', sidecar.protocol);
  if (sidecar.protocol !== 'children') return undefined;
  const params = sidecar.parameters ?? {};
  if (!isObject(params)) throw bad('parameters', 'an object', params);
  const bound = (field: keyof AgeClassOptions, byDefault: number): number => {
    const v = params[field];
    if (v === undefined) return byDefault;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`parameters.${field}`, 'a number', v);
    return v;
  };
  return { childMaxAge: bound('childMaxAge', DEFAULT_CHILD_MAX_AGE), adultMinAge: bound('adultMinAge', DEFAULT_ADULT_MIN_AGE) };
}
