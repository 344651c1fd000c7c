"""Framing of the workers' pipes (all integers and floats little-endian).

Embedding worker (worker.py; mirrored in src/models/torch.ts):
stdout, once: one JSON line describing the loaded model (`dim`, `columns`, `device`, ...).
Request on stdin:  uint32 n, uint32 floats per image, then n * floats float32.
Response on stdout: uint32 status, uint32 a, uint32 b, then the payload:
  status 0: a = n, b = columns, payload n rows of float32: the embedding (dim), then with an
            age head the age in years and the 7 age-group logits (columns = dim + 8);
  status 1: a = byte length, payload a UTF-8 error text (the traceback, verbatim).

Synthesis worker (synth_worker.py: MTLFace's face age synthesis):
stdout, once: one JSON line: `size` (112), `groups` (7), `noise` ('stored' | 'random'),
  `device`, `fp16`, `note`, `variant`, `depth`, `prefix`, `styleDim`, `describe`, `torch`,
  `threads`, `gpu`.
Request on stdin:  uint32 n, uint32 floats per image (3 * 112 * 112), uint32 group mask (bit k:
  render age group k, 0..6; at least one bit), then n uint64 seeds (one per image), then
  n * floats float32: the faces as the embedding worker takes them, RGB, channels first,
  (pixel / 255 - 0.5) / 0.5.
Response: uint32 status, uint32 a, uint32 b, then the payload:
  status 0: a = n, b = G (the groups asked for), payload n * G * 112 * 112 * 3 uint8: RGB,
            row-major, channels last, image by image and within an image by ascending group;
            a pixel is trunc(255 * (y * 0.5 + 0.5)) of the output y clamped to [-1, 1], as the
            notebook's to_pil_image does;
  status 1: a = byte length, payload a UTF-8 error text (the traceback, verbatim).
Noise: with `stored` the generator's stored maps (decoder.decoder.noises.noise_0..10) serve
  every image, so the seeds are unused and the output is the same on every run and machine.
  With `random`, image i and group k get a CPU torch.Generator seeded with
  (seed_i + k * 0x9E3779B97F4A7C15) mod 2**64, from which torch.randn(1, 1, s, s) draws
  noise_0..noise_10 in that order (s = 4, 8, 8, 16, 16, 32, 32, 64, 64, 128, 128) before they
  move to the device: the same seed gives the same noise on CPU and CUDA, whatever the batch.
End: closing stdin makes either worker exit 0.
Exit codes before serving: 2 (EXIT_BAD_INPUT) a checkpoint or device that cannot be used, e.g.
  a recognition-only checkpoint given to the synthesis worker (the message names the missing
  key prefixes); 3 (EXIT_NO_TORCH) no PyTorch.
"""
import struct

REQUEST = struct.Struct('<II')
SYNTH_REQUEST = struct.Struct('<III')
IMAGE_SIDE = 112
IMAGE_FLOATS = 3 * IMAGE_SIDE * IMAGE_SIDE
SEED_MIX = 0x9E3779B97F4A7C15  # 2**64 / golden ratio: groups of one seed land far apart
RESPONSE = struct.Struct('<III')
STATUS_OK = 0
STATUS_ERROR = 1
# Exit codes the TypeScript side turns into messages: bad checkpoint or device, torch missing.
EXIT_BAD_INPUT = 2
EXIT_NO_TORCH = 3
F_SETPIPE_SZ = 1031  # Linux fcntl: a 1 MiB pipe buffer cuts syscalls per 150 kB image
PIPE_SIZE = 1 << 20


def torch_missing(err):
    """The message for a Python without torch (the TypeScript side adds how to install it)."""
    import sys
    return f'PyTorch is not installed for {sys.executable} ({err}).\n'


def noise_seed(seed, group):
    """The torch.Generator seed of an image's random noise for one age group (see above)."""
    return (seed + group * SEED_MIX) % (1 << 64)


def widen_pipe(fd):
    """Grow a pipe's buffer where the OS allows it; harmless no-op elsewhere."""
    try:
        import fcntl
        fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE)
    except (ImportError, OSError):
        pass


def read_exact(stream, view):
    """Fill `view` (a writable memoryview) from `stream`; False on a clean EOF before any byte."""
    got = 0
    while got < len(view):
        n = stream.readinto(view[got:])
        if not n:
            if got == 0:
                return False
            raise EOFError(f'pipe closed after {got} of {len(view)} bytes')
        got += n
    return True
