/** What `ecaf demo` says at each of its steps (src/demo/index.ts tells the steps). */
import path from 'node:path';
import { datasetLayout } from '../../dataset/layout.js';
import { DEMO_SYNTHESIS_FACES, demoNotice, MEANINGLESS, type DemoEvent } from '../../demo/index.js';
import { formatDuration } from '../../util/progress.js';
import { formatAlignSummary } from './align.js';
import { formatBenchmarkResult } from './benchmark.js';
import { formatCrawlSummary } from './crawl.js';
import { formatPairsSummary } from './pairs.js';
import { formatSynthesisRun } from './synthesize.js';

const STAGES: Record<Extract<DemoEvent, { kind: 'stage' }>['stage'], (identities: number) => string> = {
  crawl: () => '\n[3/6] crawl (private addresses allowed: the demo server is on 127.0.0.1, which crawl refuses by default)',
  align: () => "\n[4/6] align (fast FFHQ: one sample per output pixel instead of the procedure's up to 4x4; ecaf align keeps the procedure by default)",
  pairs: (identities) => `\n[5/6] pairs (parameters for a ${identities}-identity toy: 4 folds, fewer pairs than asked allowed)`,
  benchmark: () => '\n[6/6] benchmark (builtin model: face-api recognition net)',
  synthesize: () => `\n[+] synthesize (the checkpoint's face age synthesis of the first ${DEMO_SYNTHESIS_FACES} demo faces, judged by face-api)`,
};

/** The demo's narration of one step: the texts to print, a line or a block each. */
export function sayDemo(e: DemoEvent): string[] {
  switch (e.kind) {
    case 'start':
      return [`ecaf demo: the whole pipeline, offline, on the photos that ship with face-api, in ${e.root}`];
    case 'faces':
      return [
        e.reusedFrom
          ? `\n[1/6] faces: the ${e.faces} faces of the ${e.photos} sample photos found by the last run (${shown(e.reusedFrom)})`
          : `\n[1/6] faces: ${e.faces} found in the ${e.photos} sample photos by face-api (SSD MobileNet v1, age and gender net) in ${e.seconds.toFixed(1)} s`,
        ['', 'What the demo data is (read this before any number):', ...demoNotice(e.faces, e.photos).map((l) => `  ${l}`)].join('\n'),
      ];
    case 'data': {
      const address = e.previousPort === undefined ? '' : e.port === e.previousPort ? ' (same address as the last run: finished stages are reused)' : ` (port ${e.previousPort} is taken: new URLs, so crawl fetches again)`;
      return [`\n[2/6] data.json: ${e.records} records -> ${shown(e.file)}, served by ${e.url}${address}`];
    }
    case 'stage':
      return [STAGES[e.stage](e.identities)];
    case 'crawled':
      return [indent(formatCrawlSummary(e.result))];
    case 'aligned':
      return [indent(formatAlignSummary(e.result))];
    case 'paired':
      return [indent(formatPairsSummary(e.result).trimEnd())];
    case 'benchmark-log':
      return [`  ${e.line}`];
    case 'scored':
      return e.results.map((r) => indent(formatBenchmarkResult(r)));
    case 'synthesized':
      return [indent(formatSynthesisRun(e.run).trimEnd())];
    case 'done': {
      const r = e.result;
      const layout = datasetLayout(r.root);
      return [
        [
          '',
          `Done in ${formatDuration(r.seconds)}. Where everything is:`,
          `  start here            ${shown(r.index)}`,
          `  contact sheet         ${shown(r.sheet.file)} (${r.sheet.width}x${r.sheet.height})`,
          `  records               ${shown(r.dataJson)}`,
          `  downloads, crawl log  ${shown(layout.raw)}/, ${shown(layout.crawlLog)}`,
          `  aligned faces         ${shown(layout.ffhq)}/, ${shown(layout.mtcnn)}/, ${shown(layout.landmarksLog)}`,
          `  pair files            ${r.pairs.map((p) => shown(p.file)).join(', ')} (+ .json sidecars)`,
          `  reports               ${r.benchmark.map((b) => shown(b.dir)).join(', ')}`,
          ...(r.synthesis?.sheet ? [`  synthesis sheet       ${shown(r.synthesis.sheet)}`] : []),
          '',
          MEANINGLESS,
        ].join('\n'),
      ];
    }
  }
}

/** A path as the user can type it from where they ran the demo. */
const shown = (file: string) => {
  const r = path.relative(process.cwd(), file);
  return r === '' ? '.' : r.startsWith('..') ? file : r;
};
const indent = (text: string) => text.replace(/^/gm, '  ');
