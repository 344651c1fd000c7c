"""The age head of ecaf_torch (RecognitionModel.embed_and_age) against plain torch.nn.functional
on the raw state dict; prints {"ours": [...], "reference": [...]} ages in years.
  /usr/bin/python3 age_check.py CHECKPOINT ROOT_PREFIX   (ROOT_PREFIX: where age_estimator.* sits)"""
import json
import sys

import torch
import torch.nn.functional as F

from ecaf_torch.checkpoint import load_model

ckpt, root = sys.argv[1], sys.argv[2]
torch.set_num_threads(2)
sd = torch.load(ckpt, map_location='cpu')
model, _ = load_model(ckpt)
x = torch.Generator().manual_seed(3)
images = torch.rand(2, 3, 112, 112, generator=x) * 2 - 1


def w(k):
    return sd[root + 'age_estimator.' + k]


with torch.no_grad():
    ours = model.embed_and_age(images)[1]
    _, x_age = model.features(images)  # the decomposition itself is checked by reference_forward.py
    h = F.batch_norm(x_age, w('age_output_layer.0.running_mean'), w('age_output_layer.0.running_var'),
                     w('age_output_layer.0.weight'), w('age_output_layer.0.bias'), False, 0.0, 1e-5)
    h = F.relu(F.linear(h.flatten(1), w('age_output_layer.2.weight'), w('age_output_layer.2.bias')))
    logits = F.linear(h, w('age_output_layer.4.weight'), w('age_output_layer.4.bias'))
    reference = (F.softmax(logits, dim=1) * torch.arange(101.0)).sum(dim=1)
print(json.dumps({'ours': ours.tolist(), 'reference': reference.tolist()}))
