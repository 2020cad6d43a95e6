#!/usr/bin/python3
"""Check moodnet weights files against the PyTorch twins, and write PyTorch state_dicts for moodnet.

Needs torch (Debian: python3-torch; run with /usr/bin/python3). Never needed by the test suite.
Reads and writes safetensors with the `safetensors` package when it is installed, otherwise with
struct + json + torch.frombuffer (the format is simple: see docs/checkpoints.md).

  compare WEIGHTS LOGITS      load WEIGHTS (a moodnet weights file) into the PyTorch twin built from
                              its __metadata__ (model and its size arguments, input channels, class
                              count), run LOGITS' "inputs" through it in eval mode and compare with
                              LOGITS' "logits" (written by moodnet). Exit status 0 when they agree
                              within --atol/--rtol and every argmax agrees, 1 otherwise.
  export OUT --model customnet --w 32 [--seed 0]
  export OUT --model mobilenet --alpha 0.5
  export OUT --model resnet --w 32 --blocks 1
  export OUT --model resnext --cardinality 8 --group-width 4 --w 64 --blocks 2
                              write a freshly initialised twin's state_dict (with the metadata keys
                              moodnet expects) so moodnet can be checked on a PyTorch-written file.
  tiny-fixture OUT            write the small conv+BN state_dict used by tests/io/pytorch_file.cpp.
  inspect FILE                print the header (tensors, dtypes, shapes) and the metadata.

The LOGITS file format is defined in tools/README.md.
"""
import argparse
import ctypes
import inspect
import json
import os
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32,
          "F16": torch.float16, "BF16": torch.bfloat16, "U8": torch.uint8, "I8": torch.int8,
          "I16": torch.int16, "BOOL": torch.bool}
NAMES = {v: k for k, v in DTYPES.items()}
CLASS_NAMES = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]

try:  # prefer the reference implementation when it is there
    import safetensors.torch as st  # noqa: F401
except ImportError:
    st = None


def read_safetensors(path):
    """(OrderedDict name -> tensor, metadata dict) of a safetensors file, validated."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        sys.exit("%s: %d bytes, too short" % (path, len(raw)))
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        sys.exit("%s: header length %d runs past the end of the file" % (path, n))
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    data = bytearray(raw[8 + n:])
    tensors, end = {}, 0
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        b, en = e["data_offsets"]
        if b != end:
            sys.exit("%s: tensor %s starts at %d, expected %d (hole or overlap)" % (path, name, b, end))
        dt = DTYPES[e["dtype"]]
        numel = 1
        for d in e["shape"]:
            numel *= d
        if (en - b) != numel * torch.tensor([], dtype=dt).element_size():
            sys.exit("%s: tensor %s: size does not match its shape" % (path, name))
        t = torch.frombuffer(data, dtype=dt, offset=b, count=numel) if numel else torch.empty(0, dtype=dt)
        tensors[name] = t.reshape(e["shape"]).clone()
        end = en
    if end != len(data):
        sys.exit("%s: data section is %d bytes, tensors cover %d" % (path, len(data), end))
    ordered = {k: tensors[k] for k in header}  # header order
    return ordered, meta


def write_safetensors(path, tensors, metadata):
    """Write name -> tensor (in dict order, contiguous) plus string metadata; atomic via rename."""
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        nbytes = t.numel() * t.element_size()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + nbytes]}
        blobs.append(ctypes.string_at(t.data_ptr(), nbytes) if nbytes else b"")
        offset += nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    tmp = path + ".tmp.%d" % os.getpid()
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load(path):
    if st is not None:
        from safetensors import safe_open
        with safe_open(path, framework="pt") as f:
            meta = f.metadata() or {}
        return st.load_file(path), meta
    return read_safetensors(path)


def save(path, tensors, metadata):
    if st is not None:
        st.save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata=metadata)
    else:
        write_safetensors(path, tensors, metadata)


def import_reference(ref_dir):
    sys.path.insert(0, ref_dir)
    import pytorch_models  # noqa: E402
    return pytorch_models


# Each twin's size arguments: the __metadata__ keys moodnet writes (models/registry.hpp) are the
# keyword arguments of pytorch_models.build(), with their types.
SIZE_ARGS = {"mobilenet": {"alpha": float}, "customnet": {"w": int}, "resnet": {"w": int, "blocks": int},
             "resnext": {"cardinality": int, "group_width": int, "w": int, "blocks": int}}


def size_args(meta):
    """{key: value} of the model's size arguments in __metadata__ ("32" and "32.0" both read as 32)."""
    return {k: t(float(meta[k])) for k, t in SIZE_ARGS[meta["model"]].items() if k in meta}


def build_twin(models, meta):
    name = meta.get("model")
    if name not in SIZE_ARGS:
        sys.exit("weights file has __metadata__ model=%r; expected one of %s" % (name, ", ".join(SIZE_ARGS)))
    kw = size_args(meta)
    if "input_shape" in meta:  # "C,H,W": the twins take the channel count; H, W only reach the input
        kw["in_ch"] = int(meta["input_shape"].split(",")[0])
    if "class_names" in meta:
        kw["num_classes"] = len(meta["class_names"].split(","))
    return models.build(name, **kw)


def cmd_compare(a):
    models = import_reference(a.reference_dir)
    weights, meta = load(a.weights)
    model = build_twin(models, meta)
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if missing or unexpected:
        sys.exit("state_dict mismatch: missing %s, unexpected %s" % (missing, unexpected))
    model.eval()
    data, _ = load(a.logits)
    x, expected = data["inputs"].float(), data["logits"].float()
    with torch.no_grad():
        got = model(x)
    diff = (got - expected).abs()
    tol = a.atol + a.rtol * expected.abs()
    agree = (got.argmax(1) == expected.argmax(1)).float().mean().item()
    print("model %s %s, %d inputs: max |torch - moodnet| = %.3g, max rel = %.3g, argmax agreement %.1f%%"
          % (meta.get("model"), size_args(meta), x.shape[0], diff.max().item(),
             (diff / expected.abs().clamp_min(1.0)).max().item(), 100 * agree))
    ok = bool((diff <= tol).all()) and agree == 1.0
    print("OK" if ok else "MISMATCH (atol %g, rtol %g)" % (a.atol, a.rtol))
    return 0 if ok else 1


def cmd_export(a):
    models = import_reference(a.reference_dir)
    torch.manual_seed(a.seed)
    kw = {k: getattr(a, k) for k in SIZE_ARGS[a.model] if getattr(a, k) is not None}
    model = models.build(a.model, **kw)
    # Record every size argument, the twin's defaults included (moodnet reads them all).
    defaults = inspect.signature(type(model).__init__).parameters
    meta = {k: repr(kw.get(k, defaults[k].default)) for k in SIZE_ARGS[a.model]}
    meta.update({"model": a.model, "class_names": ",".join(CLASS_NAMES),
                 "input_mean": repr(a.input_mean), "input_std": repr(a.input_std), "written_by": "pytorch"})
    save(a.out, model.state_dict(), meta)
    print("wrote %s (%d tensors)" % (a.out, len(model.state_dict())))
    return 0


def tiny_state_dict():
    """conv3x3(1->4, no bias) BN(4) conv1x1(4->2, bias) BN(2) with exactly representable values:
    tensor i of the state_dict holds (arange(numel) - 3) / 8 + i (F32), num_batches_tracked = 7 + i (I64)."""
    m = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, bias=False), torch.nn.BatchNorm2d(4),
                            torch.nn.Conv2d(4, 2, 1, bias=True), torch.nn.BatchNorm2d(2))
    sd = m.state_dict()
    for i, (k, v) in enumerate(sd.items()):
        if v.dtype == torch.int64:
            v.fill_(7 + i)
        else:
            v.copy_(((torch.arange(v.numel(), dtype=torch.float32) - 3) / 8 + i).reshape(v.shape))
    return sd


def cmd_tiny_fixture(a):
    sd = tiny_state_dict()
    save(a.out, sd, {"written_by": "tools/compare_with_pytorch.py tiny-fixture", "torch": torch.__version__})
    print("wrote %s: %s" % (a.out, ", ".join("%s %s %s" % (k, NAMES[v.dtype], list(v.shape)) for k, v in sd.items())))
    return 0


def cmd_inspect(a):
    tensors, meta = load(a.file)
    for k, v in tensors.items():
        print("%-40s %-4s %s" % (k, NAMES[v.dtype], list(v.shape)))
    for k, v in sorted(meta.items()):
        print("__metadata__ %s = %s" % (k, v))
    return 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_ref = os.path.normpath(os.path.join(here, "..", "..", "shared", "reference"))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference-dir", default=default_ref, help="folder of pytorch_models.py (default %(default)s)")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare")
    c.add_argument("weights")
    c.add_argument("logits")
    c.add_argument("--atol", type=float, default=1e-4)
    c.add_argument("--rtol", type=float, default=1e-4)
    e = sub.add_parser("export")
    e.add_argument("out")
    e.add_argument("--model", choices=list(SIZE_ARGS), required=True)
    e.add_argument("--alpha", type=float, help="MobileNet width multiplier (default: the twin's)")
    e.add_argument("--w", type=int, help="CustomNet / ResNet / ResNeXt width (default: the twin's)")
    e.add_argument("--blocks", type=int, help="ResNet / ResNeXt blocks per stage (default: the twin's)")
    e.add_argument("--cardinality", type=int, help="ResNeXt groups (default: the twin's)")
    e.add_argument("--group-width", dest="group_width", type=int, help="ResNeXt channels per group (default: the twin's)")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--input-mean", type=float, default=0.5)
    e.add_argument("--input-std", type=float, default=0.25)
    t = sub.add_parser("tiny-fixture")
    t.add_argument("out")
    i = sub.add_parser("inspect")
    i.add_argument("file")
    a = p.parse_args()
    return {"compare": cmd_compare, "export": cmd_export, "tiny-fixture": cmd_tiny_fixture,
            "inspect": cmd_inspect}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
