"""ecaf's PyTorch side: MTLFace recognition model, checkpoint loader, embedding worker, ONNX export."""
