import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { loadDataJson } from '../../src/dataset/load.js';
import { buildDemoSite, cropAround, identityName } from '../../src/demo/dataset.js';
import { DEMO_PHOTOS, type DemoFace } from '../../src/demo/faces.js';
import { startDemoServer, type DemoRoute } from '../../src/demo/server.js';
import { tempDir } from '../helpers/tmp.js';

/** Two faces placed by hand (no detector): the site is built from boxes, whatever found them. */
const FACES: DemoFace[] = [
  { photo: 1, face: 1, box: { top: 355, left: 414, width: 177, height: 240 }, score: 0.99, age: 23, gender: 'female', genderProbability: 0.96 },
  { photo: 2, face: 1, box: { top: 125, left: 360, width: 152, height: 259 }, score: 0.76, age: 19, gender: 'male', genderProbability: 0.6 },
];

describe('demo site', () => {
  it('crops a square around the face, kept inside the photo', () => {
    expect(cropAround({ top: 100, left: 100, width: 50, height: 100 }, 2, 1000, 800)).toEqual({ left: 25, top: 50, width: 200, height: 200 });
    // near the top-left corner the square slides in rather than shrinking
    expect(cropAround({ top: 0, left: 10, width: 100, height: 100 }, 3, 1000, 800)).toEqual({ left: 0, top: 0, width: 300, height: 300 });
    // larger than the photo: as large as the photo allows
    expect(cropAround({ top: 10, left: 10, width: 100, height: 100 }, 20, 640, 480)).toEqual({ left: 0, top: 0, width: 480, height: 480 });
  });

  it('writes valid records: 4 pictures per identity, Face++ estimates, an invented child label said to be invented, 5 broken ones', async () => {
    const site = await buildDemoSite(FACES, DEMO_PHOTOS);
    const records = site.records('http://127.0.0.1:8');
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, 'data.json');
      await writeFile(file, JSON.stringify(records));
      const { records: loaded } = await loadDataJson(file);
      expect(loaded).toHaveLength(2 * 4 + 5);
      const ann = loaded.filter((r) => r.identity === identityName(FACES[0]!));
      expect(ann.map((r) => r.id)).toEqual(['sample1_face1_adult_001', 'sample1_face1_adult_002', 'sample1_face1_adult_003', 'sample1_face1_child_001']);
      expect(ann[0]).toMatchObject({ age: 23, gender: 'female', group: 'adult', faceRectangle: FACES[0]!.box, imageUrl: 'http://127.0.0.1:8/photos/sample1.jpg' });
      expect(ann[1]).toMatchObject({ age: 23, gender: 'female' });
      expect(ann[1]!.faceRectangle).toBeUndefined();
      // the child picture: no age pretended, the group decides, the record says the label is invented
      expect(ann[3]).toMatchObject({ group: 'child', gender: 'female' });
      expect(ann[3]!.age).toBeUndefined();
      const raw = records.find((r) => r.id === 'sample1_face1_child_001')!;
      expect((raw.demo as { label: string }).label).toMatch(/^INVENTED label "child"/);
      expect(loaded.find((r) => r.id === 'sample2_face1_adult_001')).toMatchObject({ gender: 'male', age: 19 });
      expect(loaded.filter((r) => !r.id.startsWith('sample')).map((r) => r.id)).toEqual([
        'broken_404_001',
        'broken_html_001',
        'broken_truncated_001',
        'broken_noai_001',
        'scenery_001',
      ]);
    } finally {
      await cleanup();
    }
  });

  it('serves crops of the stated size and format, and broken answers', async () => {
    const site = await buildDemoSite(FACES.slice(0, 1), DEMO_PHOTOS.slice(0, 1));
    const expect3 = async (route: DemoRoute | undefined, format: string, size: number) => {
      const meta = await sharp(route!.body).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual([format, size, size]);
    };
    await expect3(site.routes.get('/faces/sample1_face1_adult_002.jpg'), 'jpeg', 480);
    await expect3(site.routes.get('/faces/sample1_face1_adult_003.png'), 'png', 400);
    await expect3(site.routes.get('/faces/sample1_face1_child_001.webp'), 'webp', 256);
    await expect(sharp(site.routes.get('/broken/truncated.jpg')!.body).raw().toBuffer()).rejects.toThrow();
    expect(site.routes.get('/broken/noai.jpg')!.headers).toEqual({ 'X-Robots-Tag': 'noai, noimageai' });
    expect(site.routes.get('/broken/html-page.jpg')!.type).toMatch(/^text\/html/);
  });
});

describe('demo server', () => {
  const routes = new Map<string, DemoRoute>([['/a.jpg', { status: 200, type: 'image/jpeg', body: Buffer.from('abc'), headers: { 'X-Test': '1' } }]]);

  it('answers its routes on 127.0.0.1, 404 otherwise, and counts requests', async () => {
    const server = await startDemoServer(routes);
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      const ok = await fetch(`${server.url}/a.jpg?x=1`);
      expect([ok.status, ok.headers.get('content-type'), ok.headers.get('x-test'), await ok.text()]).toEqual([200, 'image/jpeg', '1', 'abc']);
      const head = await fetch(`${server.url}/a.jpg`, { method: 'HEAD' });
      expect([head.status, head.headers.get('content-length')]).toEqual([200, '3']);
      expect((await fetch(`${server.url}/missing.jpg`)).status).toBe(404);
      expect((await fetch(`${server.url}/a.jpg`, { method: 'POST' })).status).toBe(405);
      expect(server.requests()).toBe(4);
    } finally {
      await server.close();
    }
  });

  it('keeps the port it is asked for, and takes another when that one is busy', async () => {
    const first = await startDemoServer(routes);
    const port = first.port;
    await first.close();
    const again = await startDemoServer(routes, port);
    expect(again.port).toBe(port);
    const busy = await startDemoServer(routes, port);
    try {
      expect(busy.port).not.toBe(port);
      expect((await fetch(`${busy.url}/a.jpg`)).status).toBe(200);
    } finally {
      await busy.close();
      await again.close();
    }
  });
});
