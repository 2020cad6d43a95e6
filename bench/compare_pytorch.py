#!/usr/bin/env python3
"""Runs moodnet's whole-network benchmark and the PyTorch reference one after the other, in the same
run, and prints the ratio table (moodnet images/s / PyTorch images/s; > 1 = moodnet faster).

    /usr/bin/python3 bench/compare_pytorch.py [--build build/release] [--repeats 3] [--configs TAG ...]
                                              [--winograd off|measured|both] [--precision fp32|bf16|both]

TAGs are bench_pytorch.py's config tags (default: all of CONFIGS), e.g. --configs resnet_w32_blocks1.

PyTorch runs in its "no-mmap" mode (glibc allocator set to reuse memory, as moodnet does): see
../shared/reference/README.md. Also measured: moodnet's 2-thread vs 1-thread training step, and the
peak resident memory of a MobileNet alpha-1 training run at batch 64 on both sides. Each moodnet
setting (--winograd, --precision) gets its own table against the same PyTorch timings.
"""
import argparse, datetime, json, os, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REFERENCE = os.path.join(ROOT, "..", "shared", "reference")
# moodnet's benchmark tag (bench/train_step.cpp) -> bench_pytorch.py's --configs entry (same tag there).
CONFIGS = {"mobilenet_alpha1": "mobilenet:alpha=1.0", "mobilenet_alpha0.5": "mobilenet:alpha=0.5",
           "customnet_w64": "customnet:w=64", "customnet_w32": "customnet:w=32",
           "resnet_w32_blocks1": "resnet:w=32,blocks=1", "resnet_w24_blocks2": "resnet:w=24,blocks=2",
           "resnext_cardinality8_group_width4_w64_blocks2": "resnext:cardinality=8,group_width=4,w=64,blocks=2"}
NO_MMAP = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": "68719476736"}

PEAK_RSS_TORCH = r"""
import resource, sys, torch, torch.nn.functional as F
sys.path.insert(0, sys.argv[1]); import pytorch_models as pm
torch.set_num_threads(2); torch.manual_seed(0)
m = pm.build("mobilenet", alpha=1.0); opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
x = torch.randn(64, 1, 48, 48); y = torch.randint(0, 7, (64,))
for _ in range(5):
    opt.zero_grad(set_to_none=True); F.cross_entropy(m(x), y).backward(); opt.step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
"""


def ours(bench, threads, repeats, filt, setting):
    env = dict(os.environ, MOODNET_BENCH_THREADS=str(threads), MOODNET_BENCH_WINOGRAD=setting["winograd"],
               MOODNET_BENCH_PRECISION=setting["precision"])
    proc = subprocess.run([bench, "--benchmark_format=json", "--benchmark_repetitions=%d" % repeats,
                           "--benchmark_filter=" + filt], env=env, check=True, capture_output=True, text=True)
    out = proc.stdout
    sys.stderr.write("".join(l + "\n" for l in proc.stderr.splitlines() if l.startswith("winograd: ")))
    res = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        kind, tag = b["run_name"].split("/")[:2]
        res.setdefault((kind, tag), []).append(b["images_per_s"])
    return {k: statistics.median(v) for k, v in res.items()}


def pytorch(repeats, tags):
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        subprocess.run(["/usr/bin/python3", os.path.join(REFERENCE, "bench_pytorch.py"), "--no-layers",
                        "--repeats", str(repeats), "--out", f.name, "--configs"] + [CONFIGS[t] for t in tags],
                       env=dict(os.environ, **NO_MMAP), check=True, stdout=subprocess.DEVNULL)
        data = json.load(open(f.name))
    return {(mode, tag): r[mode]["images_per_s_median"] for tag, r in data["nets"].items() for mode in ("train", "infer")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--configs", nargs="*", default=list(CONFIGS), choices=list(CONFIGS), metavar="TAG")
    ap.add_argument("--winograd", choices=["off", "measured", "both"], default="off",
                    help="moodnet's dense 3x3 layers: standard kernels, Winograd where it measured faster "
                         "(MOODNET_BENCH_WINOGRAD), or both (an extra table of the measured setting)")
    ap.add_argument("--precision", choices=["fp32", "bf16", "both"], default="fp32",
                    help="moodnet's matrix products: fp32, bf16 on AMX (MOODNET_BENCH_PRECISION, with "
                         "Winograd off), or both (an extra table of bf16)")
    args = ap.parse_args()
    tags = args.configs
    filt = "/(" + "|".join(t.replace(".", "[.]") for t in tags) + ")/"
    bench = os.path.join(args.build, "bench", "bench_train_step")
    profile = os.path.join(args.build, "bench", "bench_layer_profile")
    started = datetime.datetime.now().isoformat(timespec="minutes")
    # (label, setting): the fp32 runs for each --winograd value, then bf16 (Winograd off)
    settings = []
    if args.precision != "bf16":
        for w in (["off", "measured"] if args.winograd == "both" else [args.winograd]):
            settings.append(("--winograd " + w, {"winograd": w, "precision": "fp32"}))
    if args.precision != "fp32":
        settings.append(("--precision bf16", {"winograd": "off", "precision": "bf16"}))
    m2, m1 = {}, {}
    for label, setting in settings:
        print("moodnet 2 threads (%s) ..." % label, file=sys.stderr, flush=True)
        m2[label] = ours(bench, 2, args.repeats, filt, setting)
        print("moodnet 1 thread, train step (%s) ..." % label, file=sys.stderr, flush=True)
        m1[label] = ours(bench, 1, args.repeats, "train_step" + filt, setting)
    print("PyTorch (no-mmap) ...", file=sys.stderr, flush=True)
    pt = pytorch(args.repeats, tags)
    rss_ours = float(subprocess.run([profile, "mobilenet", "1", "5"], check=True, capture_output=True, text=True,
                                    env=dict(os.environ, MOODNET_BENCH_THREADS="2")).stdout.split("peak resident memory:")[1].split()[0])
    rss_torch = float(subprocess.run(["/usr/bin/python3", "-c", PEAK_RSS_TORCH, REFERENCE], check=True,
                                     capture_output=True, text=True, env=dict(os.environ, **NO_MMAP)).stdout.strip())

    print("Measured %s, batch 64, float32, medians of %d repeats; command: /usr/bin/python3 bench/compare_pytorch.py%s\n"
          % (started, args.repeats, "".join(" --%s %s" % (k, v) for k, v, default in
                                            (("winograd", args.winograd, "off"), ("precision", args.precision, "fp32"))
                                            if v != default)))
    for w, _ in settings:
        if len(settings) > 1 or w != "--winograd off":
            print("moodnet with %s:\n" % w)
        print("| network | moodnet train img/s | PyTorch train img/s | train ratio | moodnet infer img/s | PyTorch infer img/s | infer ratio | moodnet 2T/1T train |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for tag in tags:
            tr, inf = m2[w][("train_step", tag)], m2[w][("inference", tag)]
            ptr, pinf = pt[("train", tag)], pt[("infer", tag)]
            print("| %s | %.0f | %.0f | **%.2fx** | %.0f | %.0f | **%.2fx** | %.2fx |" % (
                tag, tr, ptr, tr / ptr, inf, pinf, inf / pinf, tr / m1[w][("train_step", tag)]))
        print()
    print("Peak resident memory, MobileNet-V1-48 alpha 1 training at batch 64: moodnet %.0f MiB, PyTorch %.0f MiB (ratio %.2f)"
          % (rss_ours, rss_torch, rss_ours / rss_torch))

if __name__ == "__main__":
    main()
