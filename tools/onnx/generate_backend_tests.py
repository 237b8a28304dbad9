#!/usr/bin/python3
"""Writes ONNX's backend node tests (model.onnx + test_data_set_0/*.pb per test) to a folder.

Usage: /usr/bin/python3 generate_backend_tests.py OUT_DIR [--tar OUT.tar]

Debian's python3-onnx (1.12) still uses the NumPy aliases np.float, np.int, np.bool and
np.object that NumPy 1.24 removed; they are set back to the builtins before onnx's test
generator is imported. With --tar the folder is packed into a tarball (sorted, fixed
mtimes, so the bytes depend only on the tests) and removed.
"""
import argparse
import os
import shutil
import sys
import tarfile

import numpy as np

for _alias, _builtin in (("float", float), ("int", int), ("bool", bool), ("object", object)):
    if not hasattr(np, _alias):
        setattr(np, _alias, _builtin)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--tar", help="pack OUT into this tarball, then remove OUT")
    args = ap.parse_args()
    # Imported only after the aliases exist: the node test modules use them at import time.
    from onnx.backend.test.cmd_tools import generate_data

    ns = argparse.Namespace(output=args.out, op_type=None, diff=False)
    generate_data(ns)
    if args.tar:
        def normalize(info):
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            return info
        with tarfile.open(args.tar, "w") as tar:
            for root, dirs, files in os.walk(args.out):
                dirs.sort()
                for name in sorted(files):
                    path = os.path.join(root, name)
                    tar.add(path, arcname=os.path.relpath(path, args.out), filter=normalize)
        shutil.rmtree(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
