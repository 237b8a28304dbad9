#!/usr/bin/env python3
"""Writes torchvision models (random weights, eval mode, batch 1, opset 13) as ONNX files
for compare.py, each with TAG.in.npy and PyTorch's TAG.out.npy beside it.

    /usr/bin/python3 bench/peers/export_torchvision.py --out /tmp/kiln-models
    python3 bench/peers/compare.py mobilenet_v2_b1 squeezenet1_1_b1 ...

The models are picked for what the suite lacks: depthwise convolutions (mobilenet_v2),
concatenation-heavy networks with small spatial sizes (squeezenet1_1, densenet121),
grouped convolutions (resnext50_32x4d), and a decoder-style causal transformer
(a small GPT-like stack of nn.TransformerEncoderLayer with a causal mask).
Needs Debian's python3-torch python3-torchvision python3-onnx.
"""
import argparse
import os

import numpy as np
import torch
import torchvision


class Decoder(torch.nn.Module):
    """Token embedding, 4 causal self-attention layers (d=512, 8 heads), a vocabulary head."""

    def __init__(self, vocab=8192, d=512, layers=4, heads=8, length=128):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d)
        self.position = torch.nn.Parameter(torch.randn(1, length, d) * 0.02)
        layer = torch.nn.TransformerEncoderLayer(d, heads, 4 * d, dropout=0.0,
                                                 activation="gelu", batch_first=True,
                                                 norm_first=True)
        self.layers = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = torch.nn.Linear(d, vocab)
        self.register_buffer("mask", torch.triu(torch.full((length, length), float("-inf")), 1))

    def forward(self, tokens):
        x = self.embed(tokens) + self.position
        return self.head(self.layers(x, mask=self.mask))


MODELS = {
    "mobilenet_v2_b1": lambda: (torchvision.models.mobilenet_v2(), torch.randn(1, 3, 224, 224)),
    "squeezenet1_1_b1": lambda: (torchvision.models.squeezenet1_1(), torch.randn(1, 3, 224, 224)),
    "densenet121_b1": lambda: (torchvision.models.densenet121(), torch.randn(1, 3, 224, 224)),
    "resnext50_32x4d_b1": lambda: (torchvision.models.resnext50_32x4d(),
                                   torch.randn(1, 3, 224, 224)),
    "decoder_b1": lambda: (Decoder(), torch.randint(0, 8192, (1, 128))),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="/tmp/kiln-models")
    parser.add_argument("--only", nargs="*", default=list(MODELS))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    for tag in args.only:
        model, x = MODELS[tag]()
        model.eval()
        with torch.no_grad():
            y = model(x)
            path = os.path.join(args.out, tag + ".onnx")
            torch.onnx.export(model, (x,), path, opset_version=13, input_names=["x"],
                              output_names=["y"])
        np.save(os.path.join(args.out, tag + ".in.npy"), x.numpy())
        np.save(os.path.join(args.out, tag + ".out.npy"), y.numpy())
        print(f"{tag:20s} in {tuple(x.shape)} out {tuple(y.shape)} -> {path}", flush=True)


if __name__ == "__main__":
    main()
