"""Face age synthesis worker: loads a whole MTLFace checkpoint once, then answers framed faces
(float32, as the embedding worker takes them) with each face rendered at the age groups asked
for, as uint8 RGB (see protocol.py for the framing, the header and the noise):
  python3 -m ecaf_torch.synth_worker CHECKPOINT [--device auto|cpu|cuda] [--fp16] [--noise stored|random]
A recognition-only checkpoint is refused with exit code 2, naming the missing key prefixes.
"""
import struct
import sys

from .protocol import IMAGE_FLOATS, IMAGE_SIDE, RESPONSE, STATUS_OK, SYNTH_REQUEST, read_exact
from .serve import serve, start

NOISE_MODES = ('stored', 'random')


def main(argv=None):
    started = start('ecaf_torch.synth_worker', 'load_synthesis', argv, [('--noise', {'default': 'stored', 'choices': NOISE_MODES})])
    if isinstance(started, int):
        return started
    args, torch, device, fp16 = started.args, started.torch, started.device, started.fp16
    from .models.recognition import AGE_GROUPS
    from .runtime import prepare, random_noise, render

    model = prepare(started.model, device)
    started.send_header(size=IMAGE_SIDE, groups=AGE_GROUPS, noise=args.noise, styleDim=model.decoder.latent_avg.shape[-1])

    def answer(request):
        batch, groups, noise = request
        out = render(model, batch, groups, device, fp16, None if noise is None else noise.get).contiguous()
        return RESPONSE.pack(STATUS_OK, out.shape[0], len(groups)) + out.numpy().tobytes()

    def read(stream):
        request = read_request(stream, torch, AGE_GROUPS)
        if not isinstance(request, tuple):
            return request
        faces, seeds, groups = request
        # random noise is drawn here, in the reader thread, while the device renders the batch before
        return faces, groups, {k: random_noise(seeds, k) for k in groups} if args.noise == 'random' else None

    return serve(started.proto_in, started.proto_out, read, answer)


def read_request(stream, torch, age_groups):
    """(faces [n, 3, 112, 112], n seeds, groups ascending), None at a clean EOF, or what is wrong."""
    head = bytearray(SYNTH_REQUEST.size)
    if not read_exact(stream, memoryview(head)):
        return None
    n, floats, mask = SYNTH_REQUEST.unpack(head)
    seeds = bytearray(8 * n)
    data = bytearray(n * floats * 4)
    # the whole frame is read before judging it, so the next one starts in step
    if n and not (read_exact(stream, memoryview(seeds)) and read_exact(stream, memoryview(data))):
        raise EOFError('pipe closed before the batch data')
    if floats != IMAGE_FLOATS:
        return f'expected 3x112x112 = {IMAGE_FLOATS} floats per image, got {floats}'
    if not 0 < mask < 1 << age_groups:
        return f'group mask {mask:#x}: expected bits 0..{age_groups - 1} (age groups), at least one'
    groups = [k for k in range(age_groups) if mask >> k & 1]
    faces = torch.frombuffer(data, dtype=torch.float32).view(n, 3, IMAGE_SIDE, IMAGE_SIDE) if n \
        else torch.zeros(0, 3, IMAGE_SIDE, IMAGE_SIDE)
    return faces, list(struct.unpack(f'<{n}Q', seeds)), groups


if __name__ == '__main__':
    sys.exit(main())
