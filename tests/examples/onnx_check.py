"""Checks ONNX files written by export_onnx with clients moodnet did not write (tests/examples/onnx_export.sh).

usage: onnx_check.py TOLERANCE MODEL.onnx [MODEL.onnx ...]

Each MODEL.onnx comes with MODEL.input.npy (what the file takes, for some real images) and MODEL.logits.npy
(what moodnet computed for them). For each file:
  onnx.checker.check_model (full check: shape inference too) accepts it, and metadata_props hold the classes
  and normalisation;
  OpenCV's dnn module (cv2.dnn.readNetFromONNX) gives the same logits: |cv2 - moodnet| <= atol + rtol * |moodnet|
  elementwise with atol = rtol = TOLERANCE, and the same argmax;
  onnx.reference.ReferenceEvaluator (onnx >= 1.13) too, when the installed onnx has it;
  and a float64 NumPy evaluation of the file's graph (float64_logits below: this test's own reading of
  the operators, so not an independent client, but exact arithmetic): moodnet's float32 logits must be
  within FLOAT64_TOL + FLOAT64_TOL * |logit| of it. cv2's tolerance has to absorb OpenCV's float32
  arithmetic (its GroupNorm is ~3e-5 off on CustomNet); this one is tight enough to see an epsilon
  of 1e-5 dropped from a normalisation.
Prints one line per check. Exit 0: all passed; 1: a check failed; 4: onnx or cv2 is missing (after running
what it can), so that ctest reports SKIP.
"""
import sys

import numpy as np

try:
    import onnx
    import onnx.checker
except ImportError:
    onnx = None
try:
    import cv2
except ImportError:
    cv2 = None
try:
    from onnx.reference import ReferenceEvaluator
except ImportError:
    ReferenceEvaluator = None

tol = float(sys.argv[1])
FLOAT64_TOL = 5e-6
failed = False


def compare(what, got, want, path, tol=tol):
    global failed
    got = np.asarray(got).reshape(want.shape)
    diff = np.abs(got - want)
    bound = tol + tol * np.abs(want)
    same_class = int((got.argmax(1) == want.argmax(1)).sum())
    ok = bool((diff <= bound).all()) and same_class == len(want)
    print(f"{'ok  ' if ok else 'FAIL'} {path}: {what} logits max |diff| {diff.max():.2e} "
          f"(max |logit| {np.abs(want).max():.2f}, allowed {tol:g} + {tol:g}|logit|), argmax {same_class}/{len(want)}")
    failed = failed or not ok


def float64_logits(model, x):
    """The graph's output for x in float64, for the operators export_onnx writes (None for another)."""
    from onnx import numpy_helper
    v = {t.name: numpy_helper.to_array(t).astype(np.float64 if t.data_type == 1 else np.int64)
         for t in model.graph.initializer}
    v[model.graph.input[0].name] = x.astype(np.float64)

    def window(x, kh, kw, s, p, fill):  # x [N, C, H, W] -> [N, C, kh*kw, OH, OW]
        xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])), constant_values=fill)
        oh, ow = (xp.shape[2] - kh) // s[0] + 1, (xp.shape[3] - kw) // s[1] + 1
        return np.stack([xp[:, :, r:r + s[0] * oh:s[0], q:q + s[1] * ow:s[1]] for r in range(kh) for q in range(kw)], 2)

    for n in model.graph.node:
        i = [v[k] for k in n.input]
        a = {t.name: (list(t.ints) if t.type == 7 else t.i if t.type == 2 else t.f) for t in n.attribute}
        op, c = n.op_type, (1, -1, 1, 1)
        if op == "Conv":
            w, g = i[1], a.get("group", 1)
            k, cg = w.shape[0] // g, w.shape[1]
            cols = window(i[0], w.shape[2], w.shape[3], a["strides"], a["pads"], 0.0)
            y = np.concatenate([np.einsum("ncrhw,kcr->nkhw", cols[:, j * cg:(j + 1) * cg],
                                          w[j * k:(j + 1) * k].reshape(k, cg, -1)) for j in range(g)], 1)
            if len(i) > 2:
                y = y + i[2].reshape(c)
        elif op == "BatchNormalization":
            y = (i[0] - i[3].reshape(c)) / np.sqrt(i[4].reshape(c) + a["epsilon"]) * i[1].reshape(c) + i[2].reshape(c)
        elif op == "InstanceNormalization":
            axes = tuple(range(2, i[0].ndim))
            mu, var = i[0].mean(axis=axes, keepdims=True), i[0].var(axis=axes, keepdims=True)
            shape = (1, -1) + (1,) * (i[0].ndim - 2)
            y = (i[0] - mu) / np.sqrt(var + a["epsilon"]) * i[1].reshape(shape) + i[2].reshape(shape)
        elif op in ("MaxPool", "AveragePool"):
            kh, kw = a["kernel_shape"]
            cols = window(i[0], kh, kw, a["strides"], a["pads"], -np.inf if op == "MaxPool" else 0.0)
            y = cols.max(axis=2) if op == "MaxPool" else cols.mean(axis=2)
        elif op == "Reshape":
            y = i[0].reshape([i[0].shape[k] if d == 0 else d for k, d in enumerate(i[1])])
        elif op == "Relu":
            y = np.maximum(i[0], 0)
        elif op == "Clip":
            y = np.clip(i[0], i[1], i[2])
        elif op == "LeakyRelu":
            y = np.where(i[0] > 0, i[0], a["alpha"] * i[0])
        elif op in ("Add", "Sub", "Mul", "Div"):
            y = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op](i[0], i[1])
        elif op == "GlobalAveragePool":
            y = i[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Flatten":
            y = i[0].reshape(i[0].shape[0], -1)
        elif op == "Gemm":
            y = i[0] @ i[1].T + (i[2] if len(i) > 2 else 0)
        else:
            return None
        v[n.output[0]] = y
    return v[model.graph.output[0].name]


for path in sys.argv[2:]:
    stem = path[:-5] if path.endswith(".onnx") else path
    x = np.load(stem + ".input.npy")
    want = np.load(stem + ".logits.npy")
    if onnx is not None:
        model = onnx.load(path)
        try:
            onnx.checker.check_model(model, full_check=True)
        except TypeError:  # an onnx without full_check
            onnx.checker.check_model(model)
        props = {p.key: p.value for p in model.metadata_props}
        for key in ("model", "class_names", "input_mean", "input_std", "input_shape", "onnx_input"):
            if key not in props:
                print(f"FAIL {path}: metadata_props has no {key}")
                failed = True
        classes = props.get("class_names", "").split(",")
        if len(classes) != want.shape[1]:
            print(f"FAIL {path}: {len(classes)} class names for {want.shape[1]} logits")
            failed = True
        print(f"ok   {path}: onnx.checker (full check) accepts it (opset {model.opset_import[0].version}, "
              f"{len(model.graph.node)} nodes); classes {props.get('class_names')}; "
              f"mean {props.get('input_mean')} std {props.get('input_std')}")
        if ReferenceEvaluator is not None:
            compare("onnx.reference", ReferenceEvaluator(model).run(None, {"input": x})[0], want, path)
        exact = float64_logits(model, x)
        if exact is None:
            print(f"note {path}: an operator the float64 evaluation does not know: not run")
        else:  # here moodnet's logits are the ones compared with the exact values
            compare("moodnet against a float64 evaluation:", want, exact, path, FLOAT64_TOL)
    if cv2 is not None:
        cv2.setNumThreads(1)
        net = cv2.dnn.readNetFromONNX(path)
        net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        net.setInput(x)
        compare(f"cv2.dnn {cv2.__version__}", net.forward(), want, path)

missing = [name for name, mod in (("onnx (Debian python3-onnx)", onnx), ("cv2 (Debian python3-opencv)", cv2))
           if mod is None]
if ReferenceEvaluator is None and onnx is not None:
    print(f"note: onnx {onnx.__version__} has no onnx.reference (onnx >= 1.13): ReferenceEvaluator not run")
if failed:
    sys.exit(1)
if missing:
    print("SKIP: not installed: " + ", ".join(missing))
    sys.exit(4)
