"""Kiln for Python: run ONNX models, Kiln graphs and compiled artifacts on NumPy arrays.

    import numpy as np
    import kiln

    session = kiln.Session("model.onnx")
    outputs = session.run({"x": np.ones((1, 4), np.float32)})

Session opens a model; run() feeds arrays by input name and returns a dict of new arrays
by output name. compile() writes a compiled artifact (.kiln) that opens without the
compiler's work; import_onnx() converts an ONNX model into a Kiln graph file. Failures
raise KilnError or one of its subclasses (see docs/python.md).
"""
import os as _os

from kiln._kiln import (
    InvalidArgumentError,
    KilnError,
    NotFoundError,
    Session,
    TensorInfo,
    UnimplementedError,
)
from kiln import _kiln

__version__ = "0.1.0"

# The classes live in the extension; they are documented and used as kiln.*.
Session.__module__ = TensorInfo.__module__ = "kiln"

__all__ = [
    "InvalidArgumentError",
    "KilnError",
    "NotFoundError",
    "Session",
    "TensorInfo",
    "UnimplementedError",
    "compile",
    "import_onnx",
]


def compile(model_path, output_path, batch=(1,), opt_level=2):  # noqa: A001 (kiln.compile)
    """Compiles a model into an artifact, as `kiln compile MODEL -o OUTPUT --batch ...`.

    model_path: an ONNX model or Kiln graph file. output_path: the artifact to write
    (replaced atomically). batch: the sizes bound to every -1 input dimension, one
    Executable each, increasing (an int or a sequence of ints; ignored for a model with no
    -1 dimension). opt_level: graph optimization, 0, 1 or 2.

    The artifact holds code generated for this CPU; kiln.Session(output_path) runs it,
    at the batch sizes it was compiled for. Raises KilnError (a subclass per cause) with a
    message naming the path.
    """
    if isinstance(batch, int):
        batch = (batch,)
    sizes = [_as_int(size, "batch") for size in batch]
    _kiln._compile(_os.fsdecode(model_path), _os.fsdecode(output_path), sizes,
                   _as_int(opt_level, "opt_level"))


def import_onnx(onnx_path, output_path):
    """Converts an ONNX model into a Kiln graph file, as `kiln import MODEL -o OUTPUT`.

    The format follows output_path's extension: .pbtxt or .txt for a text GraphDef,
    anything else binary. External data is read beside the model. Raises
    UnimplementedError naming the node, op type and opset for what Kiln cannot import.
    """
    _kiln._import_onnx(_os.fsdecode(onnx_path), _os.fsdecode(output_path))


def _as_int(value, name):
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return value.__index__()
