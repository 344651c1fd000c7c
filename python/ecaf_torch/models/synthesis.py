"""MTLFace's face age synthesis (FAS), as the released package runs it (docs/reference.md 5b).

The recognition encoder (models/recognition.py) gives c1, c2, c3 and x_id once per face; per
target age group, `conditions` turns them into 12 W+ codes (3 coarse from x_id, 4 middle after
aging module 1 and upsample 1, 5 fine after aging 2, upsample 2, aging 3 and upsample 3), and
the StyleGAN2 decoder (models/stylegan2.py) renders them, plus `latent_avg`, at 128x128, resized
to 112 (bilinear, align_corners True) and clamped to [-1, 1]. Module names follow the
checkpoint's `encoder.*` synthesis keys and `decoder.*`, so it loads with `load_state_dict`.
Widths tied to the recognition encoder (512/256/128/64) are fixed; the style dim and the
decoder's widths are parameters, so a narrow checkpoint runs the same code.
"""
import torch
import torch.nn.functional as F
from torch import nn

from .recognition import AGE_GROUPS, FEATURE_SIDE, INPUT_SIZE
from .stylegan2 import N_LATENT, Generator, released_channels

SIGMA = 1 / 8  # overlap of the age groups' channel units in the task routers
REPEAT = 4  # residual blocks per aging module
COARSE, MIDDLE = 3, 7  # codes 0-2 from x_id, 3-6 from latlayer1, 7-11 from latlayer2
LRELU_SLOPE = 0.2
# Conv counts of the style blocks: int(log2(spatial)) for 7, 14 and 56.
STYLE_CONVS = {FEATURE_SIDE: 2, 2 * FEATURE_SIDE: 3, INPUT_SIZE // 2: 5}


def lrelu():
    return nn.LeakyReLU(LRELU_SLOPE)


def aging_width(in_channel):
    """(unit_count, conv_dim) of an aging module on `in_channel` channels."""
    units = in_channel // 4
    return units, int((AGE_GROUPS - (AGE_GROUPS - 1) * SIGMA) * units)


def unit_mapping(in_channel):
    """[7, conv_dim] masks: group k keeps `units` channels from start_k, start advancing by
    int((1 - sigma) * units) per group."""
    units, dim = aging_width(in_channel)
    mapping = torch.zeros(AGE_GROUPS, dim)
    start = 0
    for k in range(AGE_GROUPS):
        mapping[k, start:start + units] = 1
        start = int(start + (1 - SIGMA) * units)
    return mapping


class TaskRouter(nn.Module):
    def __init__(self, in_channel):
        super().__init__()
        self.register_buffer('_unit_mapping', unit_mapping(in_channel))

    def forward(self, x, group):
        return x * self._unit_mapping[group][None, :, None, None].to(x.dtype)


class ResidualBlock(nn.Module):
    def __init__(self, in_channel):
        super().__init__()
        dim = aging_width(in_channel)[1]
        self.conv1 = nn.Sequential(nn.Conv2d(dim, dim, 3, 1, 1), nn.InstanceNorm2d(dim))
        self.router1 = TaskRouter(in_channel)
        self.conv2 = nn.Sequential(nn.Conv2d(dim, dim, 3, 1, 1), nn.InstanceNorm2d(dim))
        self.router2 = TaskRouter(in_channel)

    def forward(self, x, group):
        y = F.leaky_relu(self.router1(self.conv1(x), group), LRELU_SLOPE)
        return F.leaky_relu(x + self.router2(self.conv2(y), group), LRELU_SLOPE)


class AgingModule(nn.Module):
    """x -> the same shape, transformed towards one age group (the routers pick its units)."""

    def __init__(self, in_channel):
        super().__init__()
        dim = aging_width(in_channel)[1]
        self.conv1 = nn.Sequential(nn.Conv2d(in_channel, dim, 1), nn.InstanceNorm2d(dim), lrelu())
        self.router = TaskRouter(in_channel)
        self.transform = nn.ModuleList([ResidualBlock(in_channel) for _ in range(REPEAT)])
        self.conv2 = nn.Sequential(nn.Conv2d(dim, in_channel, 1))

    def forward(self, x, group):
        x = self.router(self.conv1(x), group)
        for block in self.transform:
            x = block(x, group)
        return self.conv2(x)


def conv_block(in_channels, out_channels):
    return nn.Sequential(nn.InstanceNorm2d(in_channels), lrelu(), nn.Conv2d(in_channels, out_channels, 3, padding=1),
                         nn.InstanceNorm2d(out_channels), lrelu(), nn.Conv2d(out_channels, out_channels, 3, padding=1))


class UpsampleBlock(nn.Module):
    """The FPN-style merge of a coarse map with the encoder's skip map."""

    def __init__(self, x_channels, skip_channels, out_channels):
        super().__init__()
        self.conv = conv_block(x_channels + skip_channels, out_channels)
        self.conv2 = conv_block(out_channels, out_channels)
        self.shortcut = nn.Conv2d(x_channels, out_channels, 1)

    def forward(self, x, skip):
        if x.shape[2] < skip.shape[2]:
            x = F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=False)
        p = self.conv(torch.cat([x, skip.to(x.dtype)], dim=1)) + self.shortcut(x)
        return p + self.conv2(p)


class StyleBlock(nn.Module):
    """Stride-2 convs + LeakyReLU, global average, linear: one W+ code per map."""

    def __init__(self, in_channels, style_dim, convs):
        super().__init__()
        layers = []
        for i in range(convs):
            layers += [nn.Conv2d(in_channels if i == 0 else style_dim, style_dim, 3, 2, 1), lrelu()]
        self.convs = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1))
        self.linear = nn.Linear(style_dim, style_dim)

    def forward(self, x):
        return self.linear(self.convs(x).flatten(1))


class AgeConditions(nn.Module):
    """The FAS parts of the released encoder (`encoder.styles`, `upsample1-3`, `latlayer1-2`,
    `aging1-3`): (c1, c2, c3, x_id), age group -> W+ codes [B, 12, style_dim]."""

    def __init__(self, style_dim=512):
        super().__init__()
        spatial = [FEATURE_SIDE] * COARSE + [2 * FEATURE_SIDE] * (MIDDLE - COARSE) + [INPUT_SIZE // 2] * (N_LATENT - MIDDLE)
        self.styles = nn.ModuleList([StyleBlock(512 if i < COARSE else style_dim, style_dim, STYLE_CONVS[s])
                                     for i, s in enumerate(spatial)])
        self.upsample1 = UpsampleBlock(512, 256, 256)
        self.upsample2 = UpsampleBlock(256, 128, 128)
        self.upsample3 = UpsampleBlock(128, 64, 64)
        self.latlayer1 = nn.Conv2d(256, style_dim, 3, 1, 1)
        self.latlayer2 = nn.Conv2d(64, style_dim, 3, 1, 1)
        self.aging1 = AgingModule(512)
        self.aging2 = AgingModule(256)
        self.aging3 = AgingModule(128)

    def forward(self, c1, c2, c3, x_id, group):
        codes = [self.styles[j](x_id) for j in range(COARSE)]
        p3 = self.upsample1(self.aging1(x_id, group), c3)
        middle = self.latlayer1(p3)
        codes += [self.styles[j](middle) for j in range(COARSE, MIDDLE)]
        p4 = self.upsample2(self.aging2(p3, group), c2)
        fine = self.latlayer2(self.upsample3(self.aging3(p4, group), c1))
        codes += [self.styles[j](fine) for j in range(MIDDLE, N_LATENT)]
        return torch.stack(codes, dim=1)


class Decoder(nn.Module):
    """`decoder.*`: W+ codes + latent_avg -> the generator's image, resized to 112x112."""

    def __init__(self, style_dim=512, channels=released_channels()):
        super().__init__()
        self.decoder = Generator(style_dim, channels)
        self.register_buffer('latent_avg', torch.zeros(1, 1, style_dim))

    def forward(self, codes, noise=None):
        images = self.decoder(codes + self.latent_avg.to(codes.dtype), noise)
        return F.interpolate(images, size=INPUT_SIZE, mode='bilinear', align_corners=True)


class FaceAgeSynthesis(nn.Module):
    """A recognition model (encoder), the age conditions and the decoder: faces [N, 3, 112, 112]
    in [-1, 1] -> per age group, faces [N, 3, 112, 112] clamped to [-1, 1]."""

    def __init__(self, recognition, conditions, decoder):
        super().__init__()
        self.encoder, self.conditions, self.decoder = recognition, conditions, decoder

    def encode(self, x):
        c1, c2, c3, (x_id, _) = self.encoder.feature_maps(x)
        return c1, c2, c3, x_id

    def render(self, maps, group, noise=None):
        """One age group's faces from `encode`'s maps; `noise`: per-layer maps (stored when None)."""
        return self.decoder(self.conditions(*maps, group), noise).clamp(-1, 1)


def to_uint8(images):
    """[N, 3, H, W] in [-1, 1] -> [N, H, W, 3] uint8, as the notebook's to_pil_image(x * 0.5 + 0.5)
    does: times 255, truncated."""
    return (images.float() * 0.5 + 0.5).mul(255).to(torch.uint8).permute(0, 2, 3, 1)
