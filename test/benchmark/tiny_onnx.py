"""A tiny real ONNX model for the benchmark tests, made by torch.onnx.export, with torch's own
outputs on a fixed input to compare against. Usage: /usr/bin/python3 tiny_onnx.py OUT_DIR
Writes tiny.onnx (dynamic batch), tiny_b1.onnx (batch fixed to 1), input.bin (5x3x32x32
float32) and torch_out.bin (5x24 float32); tiny_age.onnx and tiny_age_b1.onnx add the outputs an
ecaf export of a checkpoint with an age head has, `age` [batch] and `age_group` [batch, 7], whose
torch values go to torch_age.bin (5 x 8: age, then the 7 logits)."""
import os
import sys

import numpy as np
import torch


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, stride=2, padding=1), torch.nn.PReLU(8),
            torch.nn.Conv2d(8, 16, 3, stride=2, padding=1), torch.nn.BatchNorm2d(16), torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(16, 24))

    def forward(self, x):
        return self.body(x)


class TinyWithAge(torch.nn.Module):
    """Tiny plus an age head shaped like MTLFace's: 101 logits, expected age, 7 group logits."""

    def __init__(self, tiny):
        super().__init__()
        self.tiny = tiny
        self.logits = torch.nn.Linear(24, 101)
        self.groups = torch.nn.Linear(101, 7)

    def forward(self, x):
        emb = self.tiny(x)
        logits = self.logits(emb)
        age = (torch.softmax(logits, dim=1) * torch.arange(101.0)).sum(dim=1)
        return emb, age, self.groups(logits)


def main():
    out = sys.argv[1]
    torch.manual_seed(0)
    model = Tiny().eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    x = torch.rand(5, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(model, x[:1], os.path.join(out, 'tiny.onnx'), input_names=['data'], output_names=['embedding'],
                      dynamic_axes={'data': {0: 'batch'}, 'embedding': {0: 'batch'}}, opset_version=13)
    torch.onnx.export(model, x[:1], os.path.join(out, 'tiny_b1.onnx'), input_names=['data'], output_names=['embedding'],
                      opset_version=13)
    aged = TinyWithAge(model).eval()
    with torch.no_grad():
        _, age, groups = aged(x)
    names = ['embedding', 'age', 'age_group']
    torch.onnx.export(aged, x[:1], os.path.join(out, 'tiny_age.onnx'), input_names=['data'], output_names=names,
                      dynamic_axes={n: {0: 'batch'} for n in ['data'] + names}, opset_version=13)
    torch.onnx.export(aged, x[:1], os.path.join(out, 'tiny_age_b1.onnx'), input_names=['data'], output_names=names,
                      opset_version=13)
    torch.cat([age[:, None], groups], dim=1).numpy().astype(np.float32).tofile(os.path.join(out, 'torch_age.bin'))
    x.numpy().astype(np.float32).tofile(os.path.join(out, 'input.bin'))
    y.numpy().astype(np.float32).tofile(os.path.join(out, 'torch_out.bin'))


if __name__ == '__main__':
    main()
