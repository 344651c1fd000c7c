import path from 'node:path';
import { datasetLayout, ffhqFile, mtcnnFile, rawFile } from '../../src/dataset/layout.js';
import { alignedFileOfImage, idOfImageName, idOfRawFileName, imageNameOf, imageNameProblem, rawFileName } from '../../src/dataset/names.js';

describe('the id / image name / file rules (src/dataset/names.ts)', () => {
  it('raw/: <id>.<crawl extension> both ways, ids with dots included, other names refused', () => {
    expect(rawFileName('P1.a_0', 'webp')).toBe('P1.a_0.webp');
    expect(rawFile(datasetLayout('/r'), 'P1_0', 'png')).toBe(path.join(path.resolve('/r'), 'image_data', 'raw', 'P1_0.png'));
    expect(['P1.a_0.webp', 'x.tiff', 'y.jpg'].map(idOfRawFileName)).toEqual(['P1.a_0', 'x', 'y']);
    // not a crawl extension, no id, a temp file's random suffix, no extension
    expect(['z.jpeg', '.jpg', 'P1_0.jpg.k3j2', 'README'].map(idOfRawFileName)).toEqual([null, null, null, null]);
  });

  it('pair files name <id>.jpg; any image extension names the same id; the aligned files are .jpg and .png', () => {
    expect(imageNameOf('P1_0')).toBe('P1_0.jpg');
    expect(['P1_0.jpg', 'sub/P1_0.PNG', 'P1_0.jpeg', 'P1.a_0'].map(idOfImageName)).toEqual(['P1_0', 'P1_0', 'P1_0', 'P1.a_0']);
    const layout = datasetLayout('/r');
    expect([path.basename(mtcnnFile(layout, 'P1_0')), path.basename(ffhqFile(layout, 'P1_0'))]).toEqual(['P1_0.jpg', 'P1_0.png']);
    expect(alignedFileOfImage('/a', 'P1_0.jpg', 'ffhq')).toBe(path.join('/a', 'P1_0.png'));
    expect([imageNameProblem('/abs.jpg'), imageNameProblem('../x.jpg'), imageNameProblem('.jpg')].map(Boolean)).toEqual([true, true, true]);
  });
});
