"""Embedding worker: loads an MTLFace checkpoint once, then answers framed float32 batches on
stdin with float32 embeddings on stdout (see protocol.py); a checkpoint with an age head
answers each image's age and age-group logits after its embedding (header `columns`). Run by src/models/torch.ts:
  python3 -m ecaf_torch.worker CHECKPOINT [--device auto|cpu|cuda] [--fp16]
"""
import sys

from .protocol import IMAGE_FLOATS, REQUEST, RESPONSE, STATUS_OK, read_exact
from .serve import serve, start


def main(argv=None):
    started = start('ecaf_torch.worker', 'load_model', argv)
    if isinstance(started, int):
        return started
    torch, device, fp16 = started.torch, started.device, started.fp16
    from .models.recognition import AGE_GROUPS, EMBEDDING_DIM, inference_model
    from .runtime import prepare, run

    age_head = started.info.age_keys > 0
    model = prepare(inference_model(started.model), device)
    started.send_header(dim=EMBEDDING_DIM, columns=EMBEDDING_DIM + (1 + AGE_GROUPS if age_head else 0), ageHead=age_head)

    def answer(batch):
        out = run(model, batch, device, fp16).contiguous()
        return RESPONSE.pack(STATUS_OK, out.shape[0], out.shape[1]) + out.numpy().tobytes()

    return serve(started.proto_in, started.proto_out, lambda stream: read_batch(stream, torch), answer)


def read_batch(stream, torch):
    """The next frame as a [n, 3, 112, 112] tensor, None at a clean EOF, or what is wrong with it."""
    head = bytearray(REQUEST.size)
    if not read_exact(stream, memoryview(head)):
        return None
    n, floats = REQUEST.unpack(head)
    data = bytearray(n * floats * 4)
    if not read_exact(stream, memoryview(data)) and n:
        raise EOFError('pipe closed before the batch data')
    if floats != IMAGE_FLOATS:
        return f'expected 3x112x112 = {IMAGE_FLOATS} floats per image, got {floats}'
    return torch.frombuffer(data, dtype=torch.float32).view(n, 3, 112, 112) if n else torch.zeros(0, 3, 112, 112)


if __name__ == '__main__':
    sys.exit(main())
