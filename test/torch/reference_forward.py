"""Independent MTLFace forward for the tests: plain torch.nn.functional calls on the raw
state dict (no ecaf_torch code), so the worker and the ONNX export are checked against it.
  /usr/bin/python3 reference_forward.py CHECKPOINT PREFIX INPUT.f32 OUTPUT.f32 [AGE.f32]
INPUT holds N x 3 x 112 x 112 float32, OUTPUT gets N x 512 float32 raw embeddings; AGE (the
checkpoint must have age_estimator.* beside PREFIX) gets N x 8: the expected age over 101
softmax bins, then the 7 age-group logits."""
import sys

import numpy as np
import torch
import torch.nn.functional as F

ckpt, prefix, inp, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
age_out = sys.argv[5] if len(sys.argv) > 5 else None
# age_estimator.* sits beside the encoder (released package: encoder.* and age_estimator.*)
root = prefix[:-len('encoder.')] if prefix.endswith('encoder.') else prefix
sd = torch.load(ckpt, map_location='cpu')
if 'state_dict' in sd:
    sd = sd['state_dict']


def w(k):
    return sd[prefix + k]


def bn(x, k, at=None):
    at = prefix if at is None else at
    return F.batch_norm(x, sd[at + k + '.running_mean'], sd[at + k + '.running_var'], sd[at + k + '.weight'],
                        sd[at + k + '.bias'], False, 0.0, 1e-5)


def forward(x):
    x = F.prelu(bn(F.conv2d(x, w('input_layer.0.weight'), padding=1), 'input_layer.1'), w('input_layer.2.weight'))
    for b in range(1, 5):
        i = 0
        while prefix + f'block{b}.{i}.res_layer.0.weight' in sd:
            u, s = f'block{b}.{i}.', 2 if i == 0 else 1
            if prefix + u + 'shortcut_layer.0.weight' in sd:
                short = bn(F.conv2d(x, w(u + 'shortcut_layer.0.weight'), stride=s), u + 'shortcut_layer.1')
            else:
                short = x[:, :, ::s, ::s]
            r = bn(x, u + 'res_layer.0')
            r = F.prelu(bn(F.conv2d(r, w(u + 'res_layer.1.weight'), padding=1), u + 'res_layer.2'),
                        w(u + 'res_layer.3.weight'))
            r = bn(F.conv2d(r, w(u + 'res_layer.4.weight'), stride=s, padding=1), u + 'res_layer.5')
            x = r + short
            i += 1
    avg = torch.cat([F.adaptive_avg_pool2d(x, s).flatten(1) for s in (1, 2, 3)], 1)
    mx = torch.cat([F.adaptive_max_pool2d(x, s).flatten(1) for s in (1, 2, 3)], 1)
    released = w('fsm.channel.0.weight').shape[1] == 14336
    pooled = (torch.cat([avg, mx], 1) if released else avg + mx)[:, :, None, None]
    c = F.relu(F.conv2d(pooled, w('fsm.channel.0.weight')))
    c = torch.sigmoid(bn(F.conv2d(c, w('fsm.channel.2.weight')), 'fsm.channel.3'))
    sp = torch.cat([x.max(1, keepdim=True)[0], x.mean(1, keepdim=True)], 1)
    sp = torch.sigmoid(bn(F.conv2d(sp, w('fsm.spatial.0.weight'), padding=3), 'fsm.spatial.1'))
    x_id = x * (c + sp) / 2 if released else x - (x * c + x * sp) / 2
    x_age = x - x_id
    y = F.linear(bn(x_id, 'output_layer.0').flatten(1), w('output_layer.3.weight'), w('output_layer.3.bias'))
    return bn(y, 'output_layer.4'), x_age


def age_head(x_age):
    """MTLFace AgeEstimationModule: BN2d -> flatten -> Linear -> ReLU -> Linear (101 logits)."""
    a = root + 'age_estimator.'
    h = F.relu(F.linear(bn(x_age, 'age_output_layer.0', a).flatten(1), sd[a + 'age_output_layer.2.weight'],
                        sd[a + 'age_output_layer.2.bias']))
    logits = F.linear(h, sd[a + 'age_output_layer.4.weight'], sd[a + 'age_output_layer.4.bias'])
    age = (F.softmax(logits, dim=1) * torch.arange(101.0)).sum(dim=1)
    groups = F.linear(logits, sd[a + 'group_output_layer.weight'], sd[a + 'group_output_layer.bias'])
    return torch.cat([age[:, None], groups], dim=1)


torch.set_num_threads(2)
x = torch.from_numpy(np.fromfile(inp, dtype=np.float32)).view(-1, 3, 112, 112)
with torch.no_grad():
    emb, x_age = forward(x)
    emb.numpy().astype(np.float32).tofile(out)
    if age_out:
        age_head(x_age).numpy().astype(np.float32).tofile(age_out)
