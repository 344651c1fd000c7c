"""The StyleGAN2 generator MTLFace decodes with (docs/reference.md section 5b), in plain PyTorch.

Size 128 from W+ latents (one code per layer, the mapping network unused), channel widths and
style dim taken from the caller (the released checkpoint: style dim 512, widths 512 at 4..32,
512 at 64 and 256 at 128 with channel multiplier 2). Module and buffer names follow the
checkpoint's `decoder.decoder.*` keys. The fused CUDA ops of the original become plain
PyTorch: the biased leaky ReLU is `leaky_relu(x + b, 0.2) * sqrt(2)` and upfirdn2d is zero
insertion, padding and a depthwise conv2d with the flipped kernel, so it runs on CPU and CUDA
with nothing to compile.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

SIZE = 128
LOG_SIZE = 7  # log2(SIZE)
PAIRS = LOG_SIZE - 2  # upsampling conv pairs: 8, 16, 32, 64, 128
NOISE_LAYERS = 2 * PAIRS + 1
N_LATENT = 2 * LOG_SIZE - 2  # 12 W+ codes
# The FIR kernel of upsampling, [1, 3, 3, 1] outer product, normalised, times factor^2 = 4.
BLUR_TAPS = (1.0, 3.0, 3.0, 1.0)
LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2)
DEMOD_EPS = 1e-8


def released_channels(channel_multiplier=2):
    """Widths at 4, 8, ..., 128 of the released generator (StyleGAN2's channel table)."""
    return (512, 512, 512, 512, 256 * channel_multiplier, 128 * channel_multiplier)


def noise_sides():
    """Side of noise_0..noise_10: 4, then each resolution twice (the two convs of a pair)."""
    return [2 ** ((k + 5) // 2) for k in range(NOISE_LAYERS)]


def blur_kernel():
    k = torch.tensor(BLUR_TAPS)
    k = k[:, None] * k[None, :]
    return k / k.sum() * 4


def upfirdn2d(x, kernel, up, pad):
    """upfirdn2d with down = 1: upsample by zero insertion, pad (pad0, pad1) on each axis, then
    convolve every channel with `kernel` (a true convolution: conv2d of the flipped kernel)."""
    n, c, h, w = x.shape
    if up > 1:
        z = x.new_zeros(n, c, h * up, w * up)
        z[:, :, ::up, ::up] = x
        x = z
    x = F.pad(x, (pad[0], pad[1], pad[0], pad[1]))
    k = torch.flip(kernel, (0, 1)).to(x.dtype)[None, None].repeat(c, 1, 1, 1)
    return F.conv2d(x, k, groups=c)


def fp32_mm(a, b):
    # the demodulation sums ~4608 squares: kept in float32 under fp16 autocast
    with torch.autocast(a.device.type, enabled=False):
        return a.float() @ b.float()


class EqualLinear(nn.Module):
    """Linear with equalized learning rate: weight * 1/sqrt(in) at run time."""

    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_dim, in_dim))
        self.bias = nn.Parameter(torch.empty(out_dim))
        self.scale = 1 / math.sqrt(in_dim)

    def forward(self, x):
        return F.linear(x, self.weight * self.scale, self.bias)


class ModulatedConv2d(nn.Module):
    """StyleGAN2's modulated conv, computed with one weight for the whole batch: scaling the
    input channels by the style equals scaling the weight's input channels, and the
    demodulation is a per-sample, per-output factor applied after the conv."""

    def __init__(self, in_channel, out_channel, kernel_size, style_dim, demodulate=True, upsample=False):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(1, out_channel, in_channel, kernel_size, kernel_size))
        self.modulation = EqualLinear(style_dim, in_channel)
        self.scale = 1 / math.sqrt(in_channel * kernel_size ** 2)
        self.padding = kernel_size // 2
        self.demodulate = demodulate
        self.upsample = upsample
        if upsample:
            self.blur = Blur()

    def forward(self, x, w):
        style = self.modulation(w)  # [B, in]
        weight = self.weight[0] * self.scale  # [out, in, k, k]
        x = x * style[:, :, None, None].to(x.dtype)
        if self.upsample:
            # transposed conv stride 2 then the blur: upstream's upsampling conv (pads 1, 1)
            out = F.conv_transpose2d(x, weight.transpose(0, 1).to(x.dtype), stride=2)
            out = self.blur(out)
        else:
            out = F.conv2d(x, weight.to(x.dtype), padding=self.padding)
        if self.demodulate:
            demod = torch.rsqrt(fp32_mm(style.float().square(), weight.square().sum((2, 3)).t()) + DEMOD_EPS)
            out = out * demod[:, :, None, None].to(out.dtype)
        return out


class Blur(nn.Module):
    """The FIR filter after the upsampling conv: output 2H+1 -> 2H."""

    def __init__(self):
        super().__init__()
        self.register_buffer('kernel', blur_kernel())

    def forward(self, x):
        return upfirdn2d(x, self.kernel, 1, (1, 1))


class Upsample(nn.Module):
    """x2 FIR upsampling of the RGB skip: zero insertion, pads (2, 1), the same kernel."""

    def __init__(self):
        super().__init__()
        self.register_buffer('kernel', blur_kernel())

    def forward(self, x):
        return upfirdn2d(x, self.kernel, 2, (2, 1))


class NoiseInjection(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(1))

    def forward(self, x, noise):
        return x + self.weight.to(x.dtype) * noise.to(x.dtype)


class BiasedLeakyReLU(nn.Module):
    """fused_leaky_relu: leaky_relu(x + bias, 0.2) * sqrt(2)."""

    def __init__(self, channels):
        super().__init__()
        self.bias = nn.Parameter(torch.empty(channels))

    def forward(self, x):
        return F.leaky_relu(x + self.bias[None, :, None, None].to(x.dtype), LRELU_SLOPE) * LRELU_GAIN


class StyledConv(nn.Module):
    def __init__(self, in_channel, out_channel, style_dim, upsample=False):
        super().__init__()
        self.conv = ModulatedConv2d(in_channel, out_channel, 3, style_dim, upsample=upsample)
        self.noise = NoiseInjection()
        self.activate = BiasedLeakyReLU(out_channel)

    def forward(self, x, w, noise):
        return self.activate(self.noise(self.conv(x, w), noise))


class ToRGB(nn.Module):
    def __init__(self, in_channel, style_dim, upsample=True):
        super().__init__()
        if upsample:
            self.upsample = Upsample()
        self.conv = ModulatedConv2d(in_channel, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.empty(1, 3, 1, 1))

    def forward(self, x, w, skip=None):
        out = self.conv(x, w) + self.bias.to(x.dtype)
        return out if skip is None else out + self.upsample(skip)


class ConstantInput(nn.Module):
    def __init__(self, channel):
        super().__init__()
        self.input = nn.Parameter(torch.empty(1, channel, 4, 4))

    def forward(self, batch):
        return self.input.expand(batch, -1, -1, -1)


class Noises(nn.Module):
    """The stored noise maps noise_0..noise_10 [1, 1, side, side]."""

    def __init__(self):
        super().__init__()
        for k, side in enumerate(noise_sides()):
            self.register_buffer(f'noise_{k}', torch.zeros(1, 1, side, side))

    def maps(self):
        return [getattr(self, f'noise_{k}') for k in range(NOISE_LAYERS)]


class Generator(nn.Module):
    """W+ latents [B, 12, style_dim] (and the 11 noise maps, stored ones by default) ->
    images [B, 3, 128, 128], roughly in [-1, 1]."""

    def __init__(self, style_dim=512, channels=released_channels()):
        super().__init__()
        if len(channels) != PAIRS + 1:
            raise ValueError(f'need {PAIRS + 1} channel widths (4..{SIZE}), got {len(channels)}')
        self.style_dim, self.channels = style_dim, tuple(channels)
        self.input = ConstantInput(channels[0])
        self.conv1 = StyledConv(channels[0], channels[0], style_dim)
        self.to_rgb1 = ToRGB(channels[0], style_dim, upsample=False)
        self.convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        for cin, cout in zip(channels[:-1], channels[1:]):
            self.convs.append(StyledConv(cin, cout, style_dim, upsample=True))
            self.convs.append(StyledConv(cout, cout, style_dim))
            self.to_rgbs.append(ToRGB(cout, style_dim))
        self.noises = Noises()

    def forward(self, latents, noise=None):
        noise = self.noises.maps() if noise is None else noise
        out = self.conv1(self.input(latents.shape[0]).to(latents.dtype), latents[:, 0], noise[0])
        skip = self.to_rgb1(out, latents[:, 1])
        for k, to_rgb in enumerate(self.to_rgbs):
            i = 1 + 2 * k  # codes: the pair's two convs, then its to_rgb (shared with the next pair's first conv)
            out = self.convs[2 * k](out, latents[:, i], noise[i])
            out = self.convs[2 * k + 1](out, latents[:, i + 1], noise[i + 1])
            skip = to_rgb(out, latents[:, i + 2], skip)
        return skip
