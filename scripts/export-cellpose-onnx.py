#!/usr/bin/env python3
"""Converts a Cellpose 3 model into the ONNX file scportrait-segmentation's Cellpose workflows load.

    python3 scripts/export-cellpose-onnx.py MODEL OUT.onnx [--size-model FILE | --no-size-model]

MODEL is a built-in Cellpose model name (nuclei, cyto, cyto2, cyto3, ... — read from your own Cellpose install's
model folder, ~/.cellpose/models or $CELLPOSE_LOCAL_MODELS_PATH) or the path of a weights file (a model you
trained). This script never downloads anything: if a built-in model's weights are not in the model folder, run
Cellpose once with that model (which downloads them) or pass the weights file's path.

Runs with your Python, PyTorch (>= 1.13) and Cellpose 3 (the installed package, or the source tree $CELLPOSE_SRC
points at). The `onnx` and `onnxruntime` Python packages are not needed; if onnxruntime is installed, the exported
file is also run and compared with PyTorch.

The model is loaded the way scPortrait loads it: a built-in name as `models.Cellpose(model_type=NAME)` does
(diam_mean 17 for nuclei, 30 otherwise), a path as `models.CellposeModel(pretrained_model=PATH)` does (diam_mean
and diam_labels stored in the weights).

The ONNX file: input `input` float32 [N, 2, H, W] (N, H, W dynamic; H and W multiples of 16 as Cellpose pads its
tiles); outputs `output` float32 [N, 3, H, W] (dY, dX, cell-probability logit) and `style` float32 [N, 256] (the
L2-normalised style vector). Cellpose's style layer averages with a pool whose size is the input's shape, which
PyTorch 1.13's exporter cannot handle; it is replaced by the identical global mean over H and W before export.
ONNX metadata_props: `diam_mean`, `diam_labels` (decimal strings), `cellpose_model` (the name), and `size_model`
(JSON {"A", "smean", "ymean", "diam_mean"}: the linear size model Cellpose 3's SizeModel applies to the style,
diameter = max(5, exp(A · (style − smean) + log(diam_mean) + ymean))) when a size model is found: the
size_<name>.npy of a built-in model, <weights>_size.npy beside a weights file, or --size-model FILE.

The file is written to a temporary name beside OUT and renamed when complete.
"""
import argparse
import io
import json
import os
import sys
import tempfile
import warnings

OPSET = 17
INPUT, OUTPUT, STYLE = "input", "output", "style"
# Cellpose 3.1's built-in names whose weights file has another name in the model folder (models.model_path), and
# the size models of the built-ins that have one (models.size_model_path).
WEIGHTS_FILE = {"cyto": "cytotorch_0", "cyto2": "cyto2torch_0", "nuclei": "nucleitorch_0"}
SIZE_FILE = {"cyto": "size_cytotorch_0.npy", "cyto2": "size_cyto2torch_0.npy", "nuclei": "size_nucleitorch_0.npy",
             "cyto3": "size_cyto3.npy"}


class ExportError(Exception):
    pass


# --- ONNX metadata_props: a few protobuf fields appended to the serialized ModelProto -----------------------------

def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _len_field(field, payload):
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def metadata_props_bytes(props):
    """ModelProto.metadata_props (field 14, repeated StringStringEntryProto{key = 1, value = 2}) for each item of
    `props` (str → str), in order. Appended to a serialized ModelProto they add these entries (protobuf merges
    repeated fields that appear later in the message)."""
    out = b""
    for key, value in props.items():
        entry = _len_field(1, key.encode("utf-8")) + _len_field(2, value.encode("utf-8"))
        out += _len_field(14, entry)
    return out


def _read_varint(buf, pos):
    n = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return n, pos


def _fields(buf):
    """(field number, wire type, value) of a protobuf message's top-level fields (value: int or bytes)."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            n, pos = _read_varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"protobuf wire type {wire} at byte {pos}")
        yield field, wire, value


def read_metadata_props(model_bytes):
    """The metadata_props of a serialized ONNX ModelProto as a dict (later entries win)."""
    props = {}
    for field, wire, value in _fields(model_bytes):
        if field == 14 and wire == 2:
            entry = {f: v for f, w, v in _fields(value) if w == 2}
            props[entry.get(1, b"").decode("utf-8")] = entry.get(2, b"").decode("utf-8")
    return props


def decimal(value):
    """A number as the decimal string of its exact (float64) value: float32 parameters keep every bit."""
    return repr(float(value))


# --- the network -----------------------------------------------------------------------------------------------

def _torch():
    try:
        import torch
    except ImportError as e:
        raise ExportError("PyTorch is not importable (install torch, the same one your Cellpose uses)") from e
    return torch


def global_mean_style():
    """Cellpose's make_style (avg_pool2d over the whole map, flatten, L2-normalise) as a global mean over H, W."""
    torch = _torch()

    class GlobalMeanStyle(torch.nn.Module):
        def forward(self, x0):
            style = x0.mean(dim=(2, 3))
            return style / torch.sum(style ** 2, dim=1, keepdim=True) ** 0.5

    return GlobalMeanStyle()


def contract_module(net):
    """`net` (a CPnet, or any module returning (flows, style, ...)) as a module with the contract's outputs
    (output, style). A CPnet gets the exportable style layer and mkldnn off; the module is put in eval mode."""
    torch = _torch()
    if hasattr(net, "make_style") and hasattr(net, "downsample"):
        net.make_style = global_mean_style()
        net.mkldnn = False

    class Contract(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.net = inner

        def forward(self, input):  # noqa: A002 — the ONNX input's name
            out = self.net(input)
            return out[0], out[1]

    return Contract(net).eval()


def export_onnx(module, out_path, metadata, example_hw=(224, 224)):
    """Exports `module` (a contract_module) to `out_path` with the contract's names and dynamic axes, plus
    `metadata` (str → str) as metadata_props; writes a temporary file beside out_path and renames it. Returns the
    bytes written."""
    torch = _torch()
    example = torch.zeros((1, 2, *example_hw), dtype=torch.float32)
    buf = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")  # torch 1.13, harmless
        torch.onnx.export(
            module, (example,), buf, input_names=[INPUT], output_names=[OUTPUT, STYLE],
            dynamic_axes={INPUT: {0: "N", 2: "H", 3: "W"}, OUTPUT: {0: "N", 2: "H", 3: "W"}, STYLE: {0: "N"}},
            opset_version=OPSET, do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL,
            export_params=True)
    data = buf.getvalue() + metadata_props_bytes(metadata)
    if read_metadata_props(data) != metadata:
        raise ExportError("the metadata written does not read back (bug in the protobuf encoder)")
    out_dir = os.path.dirname(os.path.abspath(out_path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(out_path) + ".", suffix=".tmp", dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600
        os.replace(tmp, out_path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return data


def run_onnxruntime(data, x):
    """(output, style) of the ONNX model `data` on numpy `x` with Python onnxruntime, or None if not installed."""
    try:
        import onnxruntime
    except ImportError:
        return None
    sess = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    return tuple(sess.run([OUTPUT, STYLE], {INPUT: x}))


# --- loading a Cellpose model the way scPortrait does ----------------------------------------------------------

def import_cellpose():
    src = os.environ.get("CELLPOSE_SRC")
    if src:
        if not os.path.isfile(os.path.join(src, "cellpose", "models.py")):
            raise ExportError(f"CELLPOSE_SRC={src} holds no cellpose/models.py")
        sys.path.insert(0, src)
    try:
        from cellpose import models
    except ImportError as e:
        raise ExportError(f"cannot import Cellpose ({e}): install cellpose 3 (pip install 'cellpose>=3.1,<4') "
                          "or set CELLPOSE_SRC to its source tree") from e
    return models


def resolve_model(models, model):
    """(weights path, built-in name or None) for MODEL; never downloads."""
    if os.path.isfile(model):
        return os.path.abspath(model), None
    if os.path.exists(model):
        raise ExportError(f"{model} is not a file")
    known = list(models.MODEL_NAMES) + list(models.get_user_models())
    if model not in known:
        raise ExportError(f"{model} is neither a file nor a Cellpose model name "
                          f"(known: {', '.join(sorted(set(known)))})")
    path = os.path.join(os.fspath(models.MODEL_DIR), WEIGHTS_FILE.get(model, model))
    if not os.path.isfile(path):
        raise ExportError(
            f"the weights of the built-in model {model} are not in your Cellpose model folder ({path} is missing). "
            f"This script downloads nothing: run Cellpose once with model {model} (it downloads the weights there), "
            "or pass the path of a weights file")
    return path, model if model in models.MODEL_NAMES else None


def check_state_dict(torch, path):
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:  # torch < 1.13 has no weights_only
        sd = torch.load(path, map_location="cpu")
    except Exception as e:
        raise ExportError(f"{path} is not a PyTorch weights file ({e})") from e
    if not isinstance(sd, dict) or "output.2.weight" not in sd:
        raise ExportError(f"{path} is not a Cellpose 3 CPnet state dict (no output.2.weight)")
    if "W2" in sd:
        raise ExportError(f"{path} is a Cellpose 4 (Cellpose-SAM) model; only Cellpose 3 models are supported")
    first = sd.get("downsample.down.res_down_0.proj.0.weight")
    if first is None or first.shape[0] != 2:
        raise ExportError(f"{path}: the network takes {None if first is None else first.shape[0]} input channels; "
                          "the workflows need 2 (segmented channel + optional nucleus channel)")
    if sd["output.2.weight"].shape[0] != 3:
        raise ExportError(f"{path}: the network has {sd['output.2.weight'].shape[0]} outputs, not 3 (dY, dX, cellprob)")


def load_model(models, torch, path, builtin):
    """The CellposeModel scPortrait would build (CPU, no mkldnn) → (net, diam_mean, diam_labels)."""
    cpu = torch.device("cpu")
    if builtin:
        diam_mean = 17.0 if "nuclei" in builtin else 30.0  # as models.Cellpose sets it
        m = models.CellposeModel(model_type=builtin, diam_mean=diam_mean, nchan=2, device=cpu, mkldnn=False)
    else:
        m = models.CellposeModel(pretrained_model=path, device=cpu, mkldnn=False)
    if type(m.net).__name__ != "CPnet":
        raise ExportError(f"only Cellpose's default CPnet backbone is supported, not {type(m.net).__name__}")
    return m.net.to(cpu).eval(), float(m.diam_mean), float(m.diam_labels)


def size_model_file(models, path, builtin, explicit):
    if explicit:
        if not os.path.isfile(explicit):
            raise ExportError(f"--size-model {explicit}: no such file")
        return explicit
    if builtin:
        if builtin not in SIZE_FILE:
            return None
        f = os.path.join(os.fspath(models.MODEL_DIR), SIZE_FILE[builtin])
        if not os.path.isfile(f):
            raise ExportError(
                f"the size model of {builtin} is not in your Cellpose model folder ({f} is missing); Cellpose "
                "(and scPortrait with diameter unset) estimates diameters with it. Run Cellpose once with "
                f"models.Cellpose(model_type='{builtin}') to get it, pass --size-model FILE, or --no-size-model")
        return f
    beside = path + "_size.npy"
    return beside if os.path.isfile(beside) else None


def size_model_json(file, style_size=256):
    """Cellpose's size model file (np.save of {"A", "smean", "ymean", "diam_mean"}) as JSON."""
    import numpy as np

    try:
        params = np.load(file, allow_pickle=True).item()
    except Exception as e:
        raise ExportError(f"{file} is not a Cellpose size model ({e})") from e
    missing = [k for k in ("A", "smean", "ymean", "diam_mean") if k not in params]
    if missing:
        raise ExportError(f"{file}: size model without {', '.join(missing)}")
    A = np.asarray(params["A"], np.float64).ravel()
    smean = np.asarray(params["smean"], np.float64).ravel()
    if A.size != style_size or smean.size != style_size:
        raise ExportError(f"{file}: A has {A.size} and smean {smean.size} values; the style has {style_size}")
    return json.dumps({"A": [float(v) for v in A], "smean": [float(v) for v in smean],
                       "ymean": float(np.asarray(params["ymean"]).ravel()[0]),
                       "diam_mean": float(np.asarray(params["diam_mean"]).ravel()[0])}, separators=(",", ":"))


def compare(torch, original, module, data, size=224, seed=0):
    """Max abs differences on one [1, 2, size, size] tile: original CPnet vs the exported module (PyTorch), and
    the ONNX file vs PyTorch when Python onnxruntime is installed (else None)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand((1, 2, size, size), generator=g) * 1.2 - 0.1
    with torch.no_grad():
        ref = original(x)
        y, s = module(x)
    d_torch = max(float((ref[0] - y).abs().max()), float((ref[1] - s).abs().max()))
    ort = run_onnxruntime(data, x.numpy())
    d_ort = None if ort is None else max(float(abs(ort[0] - y.numpy()).max()), float(abs(ort[1] - s.numpy()).max()))
    return d_torch, d_ort


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Convert a Cellpose 3 model (built-in name or weights file) to the ONNX file the "
                    "scportrait-segmentation Cellpose workflows load. Downloads nothing.",
        epilog="Built-in weights are read from Cellpose's model folder (~/.cellpose/models, or "
               "$CELLPOSE_LOCAL_MODELS_PATH). Cellpose is imported from $CELLPOSE_SRC when set.")
    p.add_argument("model", metavar="MODEL", help="built-in model name (nuclei, cyto2, cyto3, ...) or weights file")
    p.add_argument("out", metavar="OUT.onnx", help="ONNX file to write")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--size-model", metavar="FILE",
                   help="Cellpose size model (.npy) to embed (default: the built-in's size_*.npy, or "
                        "<weights>_size.npy beside a weights file, if present)")
    g.add_argument("--no-size-model", action="store_true", help="embed no size model")
    args = p.parse_args(argv)
    try:
        torch = _torch()
        models = import_cellpose()
        path, builtin = resolve_model(models, args.model)
        check_state_dict(torch, path)
        net, diam_mean, diam_labels = load_model(models, torch, path, builtin)
        size_file = None if args.no_size_model else size_model_file(models, path, builtin, args.size_model)
        metadata = {"diam_mean": decimal(diam_mean), "diam_labels": decimal(diam_labels),
                    "cellpose_model": builtin or os.path.basename(path)}
        if size_file:
            metadata["size_model"] = size_model_json(size_file, net.nbase[-1])
        import copy

        original = copy.deepcopy(net)
        original.mkldnn = False
        module = contract_module(net)
        data = export_onnx(module, args.out, metadata)
        d_torch, d_ort = compare(torch, original, module, data)
    except ExportError as e:
        print(f"export-cellpose-onnx: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} ({len(data) / 1e6:.1f} MB): {metadata['cellpose_model']}, diam_mean "
          f"{metadata['diam_mean']}, diam_labels {metadata['diam_labels']}, "
          f"size model {'from ' + size_file if size_file else 'none'}")
    print(f"check on a 224x224 tile: global-mean style layer vs Cellpose's: max abs diff {d_torch:.2e}; "
          + ("ONNX (onnxruntime) vs PyTorch: max abs diff " + f"{d_ort:.2e}" if d_ort is not None
             else "onnxruntime is not installed in this Python, the ONNX file was not run"))
    if d_torch > 1e-4 or (d_ort is not None and d_ort > 1e-3):
        print("export-cellpose-onnx: the differences are larger than expected", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
