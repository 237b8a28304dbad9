#!/usr/bin/env python3
"""Plots Kiln's speed against ONNX Runtime (ORT time / Kiln time per model, log scale, with
each model's target bar) from a CSV of model,ort_over_kiln,bar to a PNG; an optional
openvino_over_kiln column adds OpenVINO's ratio as a second bar per model.

Usage: /usr/bin/python3 tools/bench/plot_ratios.py docs/benchmarks_ratios.csv docs/benchmarks_ratios.png
Needs Debian's python3-matplotlib (a tool around the project, not a dependency of Kiln).
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(src, dst):
    rows = list(csv.DictReader(open(src)))
    names = [r["model"] for r in rows]
    ratios = [float(r["ort_over_kiln"]) for r in rows]
    openvino = [float(r["openvino_over_kiln"]) if r.get("openvino_over_kiln") else None
                for r in rows]
    width = 0.4 if any(v is not None for v in openvino) else 0.8
    fig, ax = plt.subplots(figsize=(9, 4.2))
    colors = ["#2a7" if r >= 1 else "#c54" for r in ratios]
    ax.bar([i - (0.2 if width < 0.8 else 0) for i in range(len(rows))], ratios, width=width,
           color=colors, label="ONNX Runtime time / Kiln time")
    if width < 0.8:
        ax.bar([i + 0.2 for i, v in enumerate(openvino) if v is not None],
               [v for v in openvino if v is not None], width=width, color="#79b",
               label="OpenVINO time / Kiln time")
        for i, v in enumerate(openvino):
            if v is not None:
                ax.text(i + 0.2, v * 1.06, f"{v:.2f}", ha="center", fontsize=7)
        ax.legend(fontsize=8, loc="upper left")
    for i, r in enumerate(rows):
        if r["bar"]:
            bar = float(r["bar"])
            ax.hlines(bar, i - 0.4, i + 0.4, colors="black", linestyles="dashed", linewidth=1)
        ax.text(i - (0.2 if width < 0.8 else 0), ratios[i] * 1.06, f"{ratios[i]:.2f}",
                ha="center", fontsize=8 if width == 0.8 else 7)
    ax.axhline(1.0, color="gray", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("peer time / Kiln time (log)")
    ax.set_title("Kiln against ONNX Runtime 1.32 (and OpenVINO 2026.4), 2 threads, f32 "
                 "(dashed: target against ONNX Runtime)", fontsize=9)
    fig.tight_layout()
    fig.savefig(dst, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
