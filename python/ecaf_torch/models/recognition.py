"""MTLFace's recognition model, written from docs/reference.md section 5.

IResNet backbone (bottleneck_IR units), the attention-based feature decomposition `fsm` in
both published variants, the output layer on the identity features, and the optional age head.
Module names follow the published state dicts so checkpoints load with `load_state_dict`.
"""
import torch
import torch.nn.functional as F
from torch import nn

# Units per stage of each published depth.
DEPTHS = {
    'ir34': (3, 4, 6, 3),
    'ir50': (3, 4, 14, 3),
    'ir64': (3, 4, 10, 3),
    'ir101': (3, 13, 30, 3),
}
STAGE_WIDTHS = (64, 128, 256, 512)
# released: avg and max pyramid features concatenated; training: summed.
VARIANTS = ('released', 'training')
INPUT_SIZE = 112
FEATURE_SIDE = INPUT_SIZE // 16  # 7x7 map after four stride-2 stages
POOL_SIZES = (1, 2, 3)
EMBEDDING_DIM = 512
AGE_BINS = 101


class BottleneckIR(nn.Module):
    """BN -> conv3x3 -> BN -> PReLU -> conv3x3(stride) -> BN, plus a shortcut."""

    def __init__(self, in_channels, depth, stride):
        super().__init__()
        if in_channels == depth:
            self.shortcut_layer = nn.MaxPool2d(1, stride)
        else:
            self.shortcut_layer = nn.Sequential(
                nn.Conv2d(in_channels, depth, 1, stride, bias=False), nn.BatchNorm2d(depth))
        self.res_layer = nn.Sequential(
            nn.BatchNorm2d(in_channels),
            nn.Conv2d(in_channels, depth, 3, 1, 1, bias=False),
            nn.BatchNorm2d(depth),
            nn.PReLU(depth),
            nn.Conv2d(depth, depth, 3, stride, 1, bias=False),
            nn.BatchNorm2d(depth))

    def forward(self, x):
        return self.res_layer(x) + self.shortcut_layer(x)


def stage(in_channels, depth, units):
    return nn.Sequential(*[BottleneckIR(in_channels if i == 0 else depth, depth, 2 if i == 0 else 1)
                           for i in range(units)])


def pyramid_pool(x, reduce):
    """Adaptive pooling to 1x1, 2x2, 3x3 of a fixed-size map, flattened channel-major like
    nn.AdaptiveXPool2d + Flatten; written with static slices so ONNX export works (7 is not a
    multiple of 2 or 3, which torch's ONNX exporter refuses for adaptive pools)."""
    n, c, h, w = x.shape
    parts = []
    for s in POOL_SIZES:
        bins = []
        for i in range(s):
            y0, y1 = (i * h) // s, -((-(i + 1) * h) // s)
            for j in range(s):
                x0, x1 = (j * w) // s, -((-(j + 1) * w) // s)
                bins.append(reduce(x[:, :, y0:y1, x0:x1]))
        parts.append(torch.stack(bins, dim=2).reshape(n, c * s * s))
    return torch.cat(parts, dim=1)


def _avg(t):
    return t.mean(dim=(2, 3))


def _max(t):
    return t.amax(dim=(2, 3))


class AttentionDecomposition(nn.Module):
    """`fsm`: splits the 512x7x7 map into identity and age features with a channel and a
    spatial attention; `variant` picks the published wiring (see docs/reference.md section 5)."""

    def __init__(self, variant, channels=512, reduction=16):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f'unknown fsm variant {variant!r}')
        self.variant = variant
        pooled = channels * sum(s * s for s in POOL_SIZES) * (2 if variant == 'released' else 1)
        self.spatial = nn.Sequential(
            nn.Conv2d(2, 1, 7, 1, 3, bias=False), nn.BatchNorm2d(1), nn.Sigmoid())
        self.channel = nn.Sequential(
            nn.Conv2d(pooled, pooled // reduction, 1, bias=False),
            nn.ReLU(),
            nn.Conv2d(pooled // reduction, channels, 1, bias=False),
            nn.BatchNorm2d(channels),
            nn.Sigmoid())

    def forward(self, x):
        avg, mx = pyramid_pool(x, _avg), pyramid_pool(x, _max)
        pooled = torch.cat([avg, mx], dim=1) if self.variant == 'released' else avg + mx
        channel = self.channel(pooled[:, :, None, None])
        spatial = self.spatial(torch.cat([x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], dim=1))
        if self.variant == 'released':
            x_id = x * ((channel + spatial) * 0.5)
            return x_id, x - x_id
        x_age = (x * channel + x * spatial) * 0.5
        return x - x_age, x_age


AGE_GROUPS = 7


class AgeEstimator(nn.Module):
    """MTLFace's age head on the age features: expected age over 101 softmax bins, and the
    7 age-group logits from a linear layer on the 101 age logits."""

    def __init__(self, groups=AGE_GROUPS):
        super().__init__()
        side = FEATURE_SIDE
        self.age_output_layer = nn.Sequential(
            nn.BatchNorm2d(512), nn.Flatten(), nn.Linear(512 * side * side, 512), nn.ReLU(),
            nn.Linear(512, AGE_BINS))
        self.group_output_layer = nn.Linear(AGE_BINS, groups)
        self.register_buffer('expectation', torch.arange(AGE_BINS, dtype=torch.float32))

    def forward(self, x_age):
        logits = self.age_output_layer(x_age)
        age = (F.softmax(logits.float(), dim=1) * self.expectation[None, :]).sum(dim=1)
        return age, self.group_output_layer(logits)


class RecognitionModel(nn.Module):
    """Image batch [N,3,112,112] in [-1, 1] -> raw 512-d identity embedding (unnormalised)."""

    def __init__(self, depth='ir50', variant='released', age_head=False):
        super().__init__()
        if depth not in DEPTHS:
            raise ValueError(f'unknown depth {depth!r} (known: {", ".join(DEPTHS)})')
        self.depth, self.variant = depth, variant
        units = DEPTHS[depth]
        self.input_layer = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.PReLU(64))
        ins = (64,) + STAGE_WIDTHS[:-1]
        self.block1, self.block2, self.block3, self.block4 = (
            stage(i, d, u) for i, d, u in zip(ins, STAGE_WIDTHS, units))
        self.fsm = AttentionDecomposition(variant)
        self.output_layer = nn.Sequential(
            nn.BatchNorm2d(512), nn.Dropout(), nn.Flatten(),
            nn.Linear(512 * FEATURE_SIDE * FEATURE_SIDE, EMBEDDING_DIM), nn.BatchNorm1d(EMBEDDING_DIM))
        self.age_estimator = AgeEstimator() if age_head else None

    def feature_maps(self, x):
        """block1..3's maps c1 (64x56x56), c2 (128x28x28), c3 (256x14x14) and the fsm's
        (x_id, x_age) split of block4's: what face age synthesis (models/synthesis.py) builds on."""
        c1 = self.block1(self.input_layer(x))
        c2 = self.block2(c1)
        c3 = self.block3(c2)
        return c1, c2, c3, self.fsm(self.block4(c3))

    def features(self, x):
        return self.feature_maps(x)[3]

    def forward(self, x):
        x_id, _ = self.features(x)
        return self.output_layer(x_id)

    def embed_and_age(self, x):
        """Embedding, estimated age in years and age-group logits [N, 7] (needs the age head)."""
        if self.age_estimator is None:
            raise RuntimeError('this checkpoint has no age head (age_estimator.*)')
        x_id, x_age = self.features(x)
        age, groups = self.age_estimator(x_age)
        return self.output_layer(x_id), age, groups


class EmbedAndAge(nn.Module):
    """A model with an age head, run as one forward (the worker's and the ONNX export's):
    image batch -> (raw embedding [N, 512], age [N], age-group logits [N, 7])."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.embed_and_age(x)


def inference_model(model):
    """What the worker and the export run: the embedding alone, or with the age head's outputs."""
    return EmbedAndAge(model) if model.age_estimator is not None else model
