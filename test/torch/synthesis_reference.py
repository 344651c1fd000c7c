"""Independent forward of MTLFace's face age synthesis for the tests (docs/reference.md 5b), in
float64 on the raw state dict, imports no ecaf_torch code and is written unlike it: instance norm,
bilinear resizes and task-router masks by hand, the StyleGAN2 convs with the weight modulated and
demodulated per sample in a loop, the upsampling conv as zero insertion + a plain conv with the
flipped kernel, then the [1, 3, 3, 1] blur.
  /usr/bin/python3 synthesis_reference.py CHECKPOINT PREFIX INPUT.f32 SEEDS.u64 MASK stored|random OUT.u8
INPUT holds N x 3 x 112 x 112 float32, SEEDS N uint64; OUT gets N x G x 112 x 112 x 3 uint8 (the
groups of MASK ascending), trunc(255 * (clamp(y, -1, 1) * 0.5 + 0.5)).
"""
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F

from reference_forward import encode, load

GROUPS = 7


def lrelu(x):
    return torch.where(x >= 0, x, x * 0.2)


def inorm(x):
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = ((x - mean) ** 2).mean(dim=(2, 3), keepdim=True)
    return (x - mean) / torch.sqrt(var + 1e-5)


def conv(sd, k, x, stride=1):
    w = sd[k + '.weight']
    return F.conv2d(x, w, sd[k + '.bias'], stride=stride, padding=w.shape[-1] // 2)


def resize(x, out, align_corners):
    """Bilinear resize of [N, C, H, W] (square) to out x out, by gathering rows then columns."""
    n = x.shape[-1]
    i = np.arange(out, dtype=np.float64)
    src = i * (n - 1) / (out - 1) if align_corners else np.maximum((i + 0.5) * n / out - 0.5, 0)
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    f = torch.from_numpy(src - lo)
    lo, hi = torch.from_numpy(lo), torch.from_numpy(hi)
    x = x[:, :, lo, :] * (1 - f)[:, None] + x[:, :, hi, :] * f[:, None]
    return x[:, :, :, lo] * (1 - f) + x[:, :, :, hi] * f


def router_mask(units, k):
    """Group k's channels: units of them from start_k, start advancing by int(7/8 * units)."""
    dim = int((GROUPS - (GROUPS - 1) / 8) * units)
    m = np.zeros(dim)
    start = 0
    for g in range(GROUPS):
        if g == k:
            m[start:start + units] = 1
        start = int(start + (1 - 1 / 8) * units)
    return torch.from_numpy(m)[None, :, None, None]


def aging(sd, a, x, k):
    mask = router_mask(sd[a + 'conv1.0.weight'].shape[1] // 4, k)
    h = lrelu(inorm(conv(sd, a + 'conv1.0', x))) * mask
    for b in range(4):
        t = f'{a}transform.{b}.'
        y = lrelu(inorm(conv(sd, t + 'conv1.0', h)) * mask)
        h = lrelu(h + inorm(conv(sd, t + 'conv2.0', y)) * mask)
    return conv(sd, a + 'conv2.0', h)


def merge(sd, u, x, skip):
    if x.shape[-1] < skip.shape[-1]:
        x = resize(x, 2 * x.shape[-1], False)

    def block(v, b):
        v = conv(sd, f'{u}{b}.2', lrelu(inorm(v)))
        return conv(sd, f'{u}{b}.5', lrelu(inorm(v)))
    p = block(torch.cat([x, skip], 1), 'conv') + conv(sd, u + 'shortcut', x)
    return p + block(p, 'conv2')


def style_code(sd, s, x):
    j = 0
    while f'{s}convs.{j}.weight' in sd:
        x = lrelu(conv(sd, f'{s}convs.{j}', x, stride=2))
        j += 2
    return F.linear(x.mean(dim=(2, 3)), sd[s + 'linear.weight'], sd[s + 'linear.bias'])


def codes_for(sd, p, c1, c2, c3, x_id, k):
    codes = [style_code(sd, f'{p}styles.{j}.', x_id) for j in range(3)]
    p3 = merge(sd, p + 'upsample1.', aging(sd, p + 'aging1.', x_id, k), c3)
    mid = conv(sd, p + 'latlayer1', p3)
    codes += [style_code(sd, f'{p}styles.{j}.', mid) for j in range(3, 7)]
    p4 = merge(sd, p + 'upsample2.', aging(sd, p + 'aging2.', p3, k), c2)
    fine = conv(sd, p + 'latlayer2', merge(sd, p + 'upsample3.', aging(sd, p + 'aging3.', p4, k), c1))
    codes += [style_code(sd, f'{p}styles.{j}.', fine) for j in range(7, 12)]
    return torch.stack(codes, 1)


def fir(x, up, pad0, pad1):
    """upfirdn2d with the [1,3,3,1] kernel (times 4 for the x2 paths), each channel alone."""
    taps = np.array([1.0, 3.0, 3.0, 1.0])
    kernel = torch.from_numpy(np.outer(taps, taps) / 64 * 4)
    n, c, h, w = x.shape
    z = torch.zeros(n, c, h * up, w * up, dtype=x.dtype)
    z[:, :, ::up, ::up] = x
    z = F.pad(z, (pad0, pad1, pad0, pad1))
    return F.conv2d(z, kernel.flip(0, 1)[None, None].repeat(c, 1, 1, 1), groups=c)


def modconv(sd, k, x, w, demod=True, up=False):
    """One sample at a time: weight * style per input channel, each output channel demodulated."""
    weight = sd[k + '.weight'][0]
    cout, cin, kh, _ = weight.shape
    scale = 1 / math.sqrt(cin * kh * kh)
    mod = sd[k + '.modulation.weight']
    styles = F.linear(w, mod / math.sqrt(mod.shape[1]), sd[k + '.modulation.bias'])
    outs = []
    for b in range(x.shape[0]):
        wb = weight * scale * styles[b][None, :, None, None]
        if demod:
            for o in range(cout):
                wb[o] = wb[o] / torch.sqrt((wb[o] ** 2).sum() + 1e-8)
        xb = x[b:b + 1]
        if up:
            # a stride-2 transposed conv: zero insertion, full padding, the flipped kernel
            z = torch.zeros(1, cin, 2 * xb.shape[2] - 1, 2 * xb.shape[3] - 1, dtype=x.dtype)
            z[:, :, ::2, ::2] = xb
            y = F.conv2d(F.pad(z, (kh - 1,) * 4), wb.flip(2, 3))
            outs.append(fir(y, 1, 1, 1))
        else:
            outs.append(F.conv2d(xb, wb, padding=kh // 2))
    return torch.cat(outs)


def styled(sd, k, x, w, noise, up=False):
    y = modconv(sd, k + '.conv', x, w, up=up) + sd[k + '.noise.weight'] * noise
    return lrelu(y + sd[k + '.activate.bias'][None, :, None, None]) * math.sqrt(2)


def to_rgb(sd, k, x, w, skip):
    y = modconv(sd, k + '.conv', x, w, demod=False) + sd[k + '.bias']
    return y if skip is None else y + fir(skip, 2, 2, 1)


def generate(sd, g, latents, noise):
    n = latents.shape[0]
    x = sd[g + 'input.input'].repeat(n, 1, 1, 1)
    x = styled(sd, g + 'conv1', x, latents[:, 0], noise[0])
    skip = to_rgb(sd, g + 'to_rgb1', x, latents[:, 1], None)
    for i in range(5):
        x = styled(sd, f'{g}convs.{2 * i}', x, latents[:, 2 * i + 1], noise[2 * i + 1], up=True)
        x = styled(sd, f'{g}convs.{2 * i + 1}', x, latents[:, 2 * i + 2], noise[2 * i + 2])
        skip = to_rgb(sd, f'{g}to_rgbs.{i}', x, latents[:, 2 * i + 3], skip)
    return skip


def noise_maps(sd, g, seeds, k, random):
    sides = [4] + [2 ** (3 + j // 2) for j in range(10)]
    if not random:
        return [sd[f'{g}noises.noise_{j}'] for j in range(11)]
    per = []
    for s in seeds:
        gen = torch.Generator().manual_seed((int(s) + k * 0x9E3779B97F4A7C15) % 2 ** 64)
        per.append([torch.randn(1, 1, side, side, generator=gen).double() for side in sides])
    return [torch.cat([p[j] for p in per]) for j in range(11)]


def main(ckpt, prefix, inp, seeds_file, mask, noise, out):
    root = prefix[:-len('encoder.')] if prefix.endswith('encoder.') else prefix
    sd = {k: v.double() if v.is_floating_point() else v for k, v in load(ckpt).items()}
    torch.set_num_threads(2)
    x = torch.from_numpy(np.fromfile(inp, dtype=np.float32)).view(-1, 3, 112, 112).double()
    seeds = np.fromfile(seeds_file, dtype='<u8')
    groups = [k for k in range(GROUPS) if int(mask) >> k & 1]
    g = root + 'decoder.decoder.'
    with torch.no_grad():
        c1, c2, c3, x_id, _ = encode(sd, prefix, x)
        faces = []
        for k in groups:
            latents = codes_for(sd, prefix, c1, c2, c3, x_id, k) + sd[root + 'decoder.latent_avg']
            img = resize(generate(sd, g, latents, noise_maps(sd, g, seeds, k, noise == 'random')), 112, True)
            faces.append(np.trunc((img.clamp(-1, 1).numpy() * 0.5 + 0.5) * 255).astype(np.uint8))
    np.stack(faces, 1).transpose(0, 1, 3, 4, 2).tofile(out)


if __name__ == '__main__':
    main(*sys.argv[1:])
