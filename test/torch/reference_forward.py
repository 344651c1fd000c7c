"""Independent MTLFace forward for the tests: plain torch.nn.functional calls on the raw
state dict (no ecaf_torch code), so the worker and the ONNX export are checked against it.
  /usr/bin/python3 reference_forward.py CHECKPOINT PREFIX INPUT.f32 OUTPUT.f32 [AGE.f32]
INPUT holds N x 3 x 112 x 112 float32, OUTPUT gets N x 512 float32 raw embeddings; AGE (the
checkpoint must have age_estimator.* beside PREFIX) gets N x 8: the expected age over 101
softmax bins, then the 7 age-group logits. synthesis_reference.py imports `encode`."""
import sys

import numpy as np
import torch
import torch.nn.functional as F


def load(ckpt):
    sd = torch.load(ckpt, map_location='cpu')
    return sd['state_dict'] if 'state_dict' in sd else sd


def bn(sd, x, k):
    return F.batch_norm(x, sd[k + '.running_mean'], sd[k + '.running_var'], sd[k + '.weight'], sd[k + '.bias'],
                        False, 0.0, 1e-5)


def encode(sd, prefix, x):
    """block1..3 outputs (c1, c2, c3), then x_id and x_age of the fsm split of block4's map."""
    p = prefix
    x = F.prelu(bn(sd, F.conv2d(x, sd[p + 'input_layer.0.weight'], padding=1), p + 'input_layer.1'),
                sd[p + 'input_layer.2.weight'])
    maps = []
    for b in range(1, 5):
        i = 0
        while p + f'block{b}.{i}.res_layer.0.weight' in sd:
            u, s = f'{p}block{b}.{i}.', 2 if i == 0 else 1
            if u + 'shortcut_layer.0.weight' in sd:
                short = bn(sd, F.conv2d(x, sd[u + 'shortcut_layer.0.weight'], stride=s), u + 'shortcut_layer.1')
            else:
                short = x[:, :, ::s, ::s]
            r = bn(sd, x, u + 'res_layer.0')
            r = F.prelu(bn(sd, F.conv2d(r, sd[u + 'res_layer.1.weight'], padding=1), u + 'res_layer.2'),
                        sd[u + 'res_layer.3.weight'])
            r = bn(sd, F.conv2d(r, sd[u + 'res_layer.4.weight'], stride=s, padding=1), u + 'res_layer.5')
            x = r + short
            i += 1
        maps.append(x)
    avg = torch.cat([F.adaptive_avg_pool2d(x, s).flatten(1) for s in (1, 2, 3)], 1)
    mx = torch.cat([F.adaptive_max_pool2d(x, s).flatten(1) for s in (1, 2, 3)], 1)
    released = sd[p + 'fsm.channel.0.weight'].shape[1] == 14336
    pooled = (torch.cat([avg, mx], 1) if released else avg + mx)[:, :, None, None]
    c = F.relu(F.conv2d(pooled, sd[p + 'fsm.channel.0.weight']))
    c = torch.sigmoid(bn(sd, F.conv2d(c, sd[p + 'fsm.channel.2.weight']), p + 'fsm.channel.3'))
    sp = torch.cat([x.max(1, keepdim=True)[0], x.mean(1, keepdim=True)], 1)
    sp = torch.sigmoid(bn(sd, F.conv2d(sp, sd[p + 'fsm.spatial.0.weight'], padding=3), p + 'fsm.spatial.1'))
    x_id = x * (c + sp) / 2 if released else x - (x * c + x * sp) / 2
    return maps[0], maps[1], maps[2], x_id, x - x_id


def embed(sd, prefix, x_id):
    y = F.linear(bn(sd, x_id, prefix + 'output_layer.0').flatten(1), sd[prefix + 'output_layer.3.weight'],
                 sd[prefix + 'output_layer.3.bias'])
    return bn(sd, y, prefix + 'output_layer.4')


def age_head(sd, root, x_age):
    """MTLFace AgeEstimationModule: BN2d -> flatten -> Linear -> ReLU -> Linear (101 logits)."""
    a = root + 'age_estimator.'
    h = F.relu(F.linear(bn(sd, x_age, a + 'age_output_layer.0').flatten(1), sd[a + 'age_output_layer.2.weight'],
                        sd[a + 'age_output_layer.2.bias']))
    logits = F.linear(h, sd[a + 'age_output_layer.4.weight'], sd[a + 'age_output_layer.4.bias'])
    age = (F.softmax(logits, dim=1) * torch.arange(101.0)).sum(dim=1)
    groups = F.linear(logits, sd[a + 'group_output_layer.weight'], sd[a + 'group_output_layer.bias'])
    return torch.cat([age[:, None], groups], dim=1)


def main(ckpt, prefix, inp, out, age_out=None):
    # age_estimator.* sits beside the encoder (released package: encoder.* and age_estimator.*)
    root = prefix[:-len('encoder.')] if prefix.endswith('encoder.') else prefix
    sd = load(ckpt)
    torch.set_num_threads(2)
    x = torch.from_numpy(np.fromfile(inp, dtype=np.float32)).view(-1, 3, 112, 112)
    with torch.no_grad():
        *_, x_id, x_age = encode(sd, prefix, x)
        embed(sd, prefix, x_id).numpy().astype(np.float32).tofile(out)
        if age_out:
            age_head(sd, root, x_age).numpy().astype(np.float32).tofile(age_out)


if __name__ == '__main__':
    main(*sys.argv[1:])
