"""Export an MTLFace checkpoint's recognition model to ONNX (dynamic batch axis):
  python3 -m ecaf_torch.export_onnx CHECKPOINT OUT.onnx [--opset N]
Input `input` [batch, 3, 112, 112] float32 RGB in [-1, 1]; output `embedding` [batch, 512], raw
(normalise, and combine flips with MTLFace's rule, outside the model); a checkpoint with an age
head adds `age` [batch] (years) and `age_group` [batch, 7] (logits of MTLFace's age groups). Prints one JSON line
describing the export on stdout. Run by src/models/export-onnx.ts, which writes atomically.
"""
import argparse
import json
import sys
import warnings

from .protocol import EXIT_BAD_INPUT, EXIT_NO_TORCH, torch_missing

# Highest opset torch 1.13's exporter writes; onnxruntime-node 1.30 runs it.
DEFAULT_OPSET = 17
INPUT_NAME, OUTPUT_NAME = 'input', 'embedding'
AGE_OUTPUTS = ('age', 'age_group')


def export(checkpoint, out, opset=DEFAULT_OPSET):
    import torch
    from .checkpoint import load_model
    from .models.recognition import inference_model

    model, info = load_model(checkpoint)
    outputs = [OUTPUT_NAME] + (list(AGE_OUTPUTS) if info.age_keys else [])
    dummy = torch.zeros(2, 3, 112, 112)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore')  # tracer chatter about constant shapes of the fixed 7x7 map
        torch.onnx.export(inference_model(model), dummy, out, input_names=[INPUT_NAME], output_names=outputs,
                          dynamic_axes={name: {0: 'batch'} for name in [INPUT_NAME] + outputs},
                          opset_version=opset, do_constant_folding=True)
    return {'variant': info.variant, 'depth': info.depth, 'prefix': info.prefix, 'describe': info.describe(),
            'opset': opset, 'input': INPUT_NAME, 'output': OUTPUT_NAME, 'outputs': outputs, 'dim': 512,
            'torch': torch.__version__}


def main(argv=None):
    p = argparse.ArgumentParser(prog='ecaf_torch.export_onnx')
    p.add_argument('checkpoint')
    p.add_argument('out')
    p.add_argument('--opset', type=int, default=DEFAULT_OPSET)
    a = p.parse_args(argv)
    try:
        import torch  # noqa: F401 - checked here for the message below
    except ImportError as err:
        sys.stderr.write(torch_missing(err))
        return EXIT_NO_TORCH
    from .checkpoint import CheckpointError
    try:
        result = export(a.checkpoint, a.out, a.opset)
    except CheckpointError as err:
        sys.stderr.write(f'{err}\n')
        return EXIT_BAD_INPUT
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
