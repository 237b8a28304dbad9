#!/usr/bin/python3
"""Exports the real models of the ONNX import tests from PyTorch (opset 13), with inputs and
PyTorch's outputs, adapted from the benchmark suite's make_models.py (see
shared/bench/SUITE.md: ResNet-50 and the BERT-base encoder written out explicitly).

Usage (Debian's interpreter, with python3-torch, python3-torchvision, python3-onnx):
  /usr/bin/python3 tools/onnx/export_models.py --out DIR [--small] [--only NAME ...]

Writes for every model NAME into DIR:
  NAME.onnx          the model, fixed shapes, opset 13, fp32, input "x", output "y"
  NAME.in.npy        the input (float32, seed 1)
  NAME.out.npy       PyTorch's eager output for it (float32)
Models: resnet50 (torchvision, 1x3x224x224) and bert (12 layers, hidden 768, 12 heads,
FFN 3072, seq 128, batch 1), or with --small the variants the unit tests keep in
tests/onnx/testdata: resnet_tiny (Bottleneck blocks, widths 8-32, 1x3x32x32) and
bert_tiny (1 layer, hidden 64, 4 heads, FFN 128, seq 16). Weights: torch.manual_seed(0)
before building each model; inputs: torch.manual_seed(1) before drawing them.
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision


class BertLayer(nn.Module):
    """Post-LayerNorm BERT encoder layer with erf GELU, as in SUITE.md."""

    def __init__(self, hidden, heads, ffn, eps=1e-12):
        super().__init__()
        self.h, self.d = heads, hidden // heads
        self.q = nn.Linear(hidden, hidden)
        self.k = nn.Linear(hidden, hidden)
        self.v = nn.Linear(hidden, hidden)
        self.o = nn.Linear(hidden, hidden)
        self.ln1 = nn.LayerNorm(hidden, eps=eps)
        self.ff1 = nn.Linear(hidden, ffn)
        self.ff2 = nn.Linear(ffn, hidden)
        self.ln2 = nn.LayerNorm(hidden, eps=eps)
        self.gelu = nn.GELU()  # approximate='none': the erf form

    def forward(self, x):  # x: [B, S, H]
        b, s, hidden = x.shape
        q = self.q(x).view(b, s, self.h, self.d).transpose(1, 2)
        k = self.k(x).view(b, s, self.h, self.d).transpose(1, 2)
        v = self.v(x).view(b, s, self.h, self.d).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.d)
        p = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(p, v).transpose(1, 2).reshape(b, s, hidden)
        x = self.ln1(x + self.o(ctx))
        return self.ln2(x + self.ff2(self.gelu(self.ff1(x))))


class Bert(nn.Module):
    def __init__(self, layers, hidden, heads, ffn):
        super().__init__()
        self.layers = nn.ModuleList([BertLayer(hidden, heads, ffn) for _ in range(layers)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class TinyResNet(nn.Module):
    """ResNet-50's structure (stem, Bottleneck stages with downsampling, global pooling,
    classifier) at widths small enough to keep in the repository."""

    def __init__(self, classes=10):
        super().__init__()
        block = torchvision.models.resnet.Bottleneck
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 7, 2, 3, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        down1 = nn.Sequential(nn.Conv2d(8, 16, 1, bias=False), nn.BatchNorm2d(16))
        down2 = nn.Sequential(nn.Conv2d(16, 32, 1, 2, bias=False), nn.BatchNorm2d(32))
        self.stage1 = nn.Sequential(block(8, 4, downsample=down1), block(16, 4))
        self.stage2 = nn.Sequential(block(16, 8, stride=2, downsample=down2), block(32, 8))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, classes)
        for m in self.modules():  # non-trivial batch-norm statistics
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.data.uniform_(0.5, 1.5)
                m.bias.data.uniform_(-0.5, 0.5)

    def forward(self, x):
        x = self.stage2(self.stage1(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


MODELS = {
    "resnet50": (lambda: torchvision.models.resnet50(weights=None), (1, 3, 224, 224)),
    "bert": (lambda: Bert(12, 768, 12, 3072), (1, 128, 768)),
    "resnet_tiny": (lambda: TinyResNet(), (1, 3, 32, 32)),
    "bert_tiny": (lambda: Bert(1, 64, 4, 128), (1, 16, 64)),
}
LARGE = ["resnet50", "bert"]
SMALL = ["resnet_tiny", "bert_tiny"]


def export(name, out):
    build, shape = MODELS[name]
    torch.manual_seed(0)
    model = build().eval()
    torch.manual_seed(1)
    x = torch.randn(*shape, dtype=torch.float32)
    with torch.inference_mode():
        y = model(x)
    path = os.path.join(out, name + ".onnx")
    torch.onnx.export(model, (x,), path, opset_version=13, do_constant_folding=True,
                      input_names=["x"], output_names=["y"], dynamic_axes=None)
    np.save(os.path.join(out, name + ".in.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out, name + ".out.npy"), y.numpy().astype(np.float32))
    print(f"{name}: in {tuple(x.shape)} out {tuple(y.shape)} "
          f"onnx {os.path.getsize(path) / 2**20:.2f} MiB", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--small", action="store_true", help="the tiny variants instead")
    ap.add_argument("--only", nargs="*", choices=sorted(MODELS))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(2)
    for name in args.only or (SMALL if args.small else LARGE):
        export(name, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
