import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as api from '../../src/index.js';
import { PACKAGE_ROOT } from '../../src/util/paths.js';

/** The public API, pinned: a name added or removed here is a decision, made in this list. */
const VALUES = [
  'InputError',
  'VERSION',
  'align',
  'checkPairFile',
  'crawl',
  'equalErrorRate',
  'kFoldAccuracy',
  'loadDataJson',
  'makePairs',
  'readJsonl',
  'readLastStates',
  'readPairFile',
  'rocAuc',
  'rocCurve',
  'runAudit',
  'runBenchmark',
  'runStage',
  'runSynthesis',
  'tarAtFars',
];
const TYPES = [
  'AlignOptions',
  'AlignSummary',
  'AuditOptions',
  'AuditRun',
  'BenchmarkOptions',
  'BenchmarkRun',
  'CrawlLine',
  'CrawlOptions',
  'CrawlResult',
  'EcafRecord',
  'LandmarksLine',
  'PairList',
  'PairsOptions',
  'PairsResult',
  'ScoredPairs',
  'StageResult',
  'SynthesisOptions',
  'SynthesisRun',
];

describe('the public API (src/index.ts)', () => {
  it('exports exactly the pinned values', () => {
    expect(Object.keys(api).sort()).toEqual(VALUES);
  });

  it('names exactly the pinned types, with no export * that would let internals through', async () => {
    const text = await readFile(path.join(PACKAGE_ROOT, 'src', 'index.ts'), 'utf8');
    expect(text).not.toMatch(/export \*/);
    const names = (re: RegExp) => [...text.matchAll(re)].flatMap((m) => m[1]!.split(',').map((s) => s.trim()).filter(Boolean));
    const mixed = names(/export \{([^}]*)\}/g);
    const typeOnly = names(/export type \{([^}]*)\}/g);
    const types = [...mixed.filter((n) => n.startsWith('type ')).map((n) => n.slice(5)), ...typeOnly];
    expect(types.sort()).toEqual(TYPES);
    expect(mixed.length + typeOnly.length).toBe(VALUES.length + TYPES.length);
  });
});
