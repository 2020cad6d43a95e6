#!/usr/bin/env bash
# End-to-end test of the general trainer on datasets this script makes (no FER-2013):
#   an RGB image folder of 3 classes at 32x32 (PNG and PPM, train/ + test/), trained a few steps
#   with `train`, then predict and evaluate on the result (channels, size, classes from the metadata);
#   the same folder at 36x36 with random 32x32 training crops; a flat folder (root/<class>/);
#   MNIST-style IDX files, plain and gzipped, with and without class names, and an interrupted
#   run resumed on them; a fer2013.csv (FER-2013's splits and report); every bad flag or dataset:
#   a one-line error and exit code 2.
# usage: smoke_any_data.sh <bin-dir>
set -euo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# ---- datasets ------------------------------------------------------------------------------------
python3 - "$work" <<'PY'
import gzip, os, random, struct, sys, zlib
root = sys.argv[1]
rng = random.Random(5)

def png(path, w, h, rgb):  # 8-bit RGB PNG, filter 0 on every row
    raw = b"".join(b"\0" + bytes(rgb[y * w * 3:(y + 1) * w * 3]) for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    open(path, "wb").write(data)

def ppm(path, w, h, rgb):
    open(path, "wb").write(b"P6\n%d %d\n255\n" % (w, h) + bytes(rgb))

def image(c, side):  # class c is mostly red, green or blue, with noise
    out = []
    for _ in range(side * side):
        px = [rng.randrange(40, 90) for _ in range(3)]
        px[c] = rng.randrange(150, 256)
        out += px
    return out

for name, side in (("rgb", 32), ("rgb36", 36)):
    for split, n in (("train", 16), ("test", 4)):
        for c, cls in enumerate(["blue-ish", "green-ish", "red-ish"][::-1]):  # red-ish is class 2 (sorted)
            d = os.path.join(root, name, split, cls)
            os.makedirs(d, exist_ok=True)
            for k in range(n):
                (png if k % 2 else ppm)(os.path.join(d, "%02d.%s" % (k, "png" if k % 2 else "ppm")), side, side,
                                        image(c, side))
# root/<class>/ only.
for c, cls in enumerate(["cat", "dog"]):
    d = os.path.join(root, "flat", cls)
    os.makedirs(d)
    for k in range(10):
        ppm(os.path.join(d, "%d.ppm" % k), 20, 20, image(c, 20))

# fer2013.csv: 7 emotions x (4 Training, 1 PublicTest, 1 PrivateTest) rows of 48x48 pixels.
with open(os.path.join(root, "fer2013.csv"), "w") as f:
    f.write("emotion,pixels,Usage\n")
    for e in range(7):
        for usage, n in (("Training", 4), ("PublicTest", 1), ("PrivateTest", 1)):
            for _ in range(n):
                f.write("%d,%s,%s\n" % (e, " ".join(str(rng.randrange(256)) for _ in range(2304)), usage))

# Two sizes in one folder: needs --input-size.
for c, cls in enumerate(["a", "b"]):
    d = os.path.join(root, "mixed", cls)
    os.makedirs(d)
    for k, (w, h) in enumerate(((20, 20), (24, 18))):
        ppm(os.path.join(d, "%d.ppm" % k), w, h, image(c, 24)[:w * h * 3])

def idx(images, labels, side, opener, folder, prefix):
    os.makedirs(folder, exist_ok=True)
    with opener(os.path.join(folder, prefix + "-images-idx3-ubyte" + (".gz" if opener is gzip.open else "")), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, len(labels), side, side) + bytes(images))
    with opener(os.path.join(folder, prefix + "-labels-idx1-ubyte" + (".gz" if opener is gzip.open else "")), "wb") as f:
        f.write(struct.pack(">II", 0x801, len(labels)) + bytes(labels))

def digits(n, side):  # 4 classes: a bright square in one quadrant
    imgs, labs = [], []
    for i in range(n):
        c = i % 4
        for y in range(side):
            for x in range(side):
                q = (y >= side // 2) * 2 + (x >= side // 2)
                imgs.append(rng.randrange(180, 256) if q == c else rng.randrange(0, 60))
        labs.append(c)
    return imgs, labs

for prefix, n in (("train", 48), ("t10k", 12)):  # the same images plain and gzipped
    imgs, labs = digits(n, 16)
    for opener, folder in ((open, "idx"), (gzip.open, "idxgz")):
        idx(imgs, labs, 16, opener, os.path.join(root, folder), prefix)
PY

common=(--threads 2 --seed 3 --batch-size 8 --time-budget 0)

# ---- 1. RGB folder: train, files, metadata, predict, evaluate --------------------------------------
"$bin/train" --model customnet --width 8 --data "$work/rgb" --epochs 2 --tta flip "${common[@]}" --out "$work/a" \
  > "$work/a.log" 2>&1 || { cat "$work/a.log"; fail "train on the RGB folder failed"; }
for f in best.safetensors last.safetensors last.state.safetensors history.csv loss.png accuracy.png \
         confusion_validation.png confusion_test.png confusion_test.txt worst_test.png test_results.txt; do
  [[ -s "$work/a/$f" ]] || fail "train did not write $f"
done
[[ $(head -n 1 "$work/a/confusion_test.txt") == "Test (customnet w 8), TTA flip" ]] \
  || fail "confusion_test.txt's title does not name the TTA: '$(head -n 1 "$work/a/confusion_test.txt")'"
[[ $(wc -l < "$work/a/history.csv") -eq 3 ]] || fail "history.csv should have a header and 2 epochs"
grep -q "image folder with splits test,train" "$work/a.log" || fail "the log does not say which dataset format it read"
grep -qE "validation [0-9]+ \(held-out slice of train\)" "$work/a.log" || { cat "$work/a.log"; fail "no stratified validation slice"; }
grep -q "3x32x32" "$work/a.log" || fail "the log does not give the image shape"
last=$(tail -n 1 "$work/a.log")
[[ $last =~ ^Test\ with\ flip\ TTA:\ Checking\ accuracy\ on\ test\ set:\ Got\ [0-9]+\ /\ 12\ correct ]] \
  || fail "the final line is not the test accuracy: '$last'"
grep -qE "^Test: +Checking accuracy on test set: Got [0-9]+ / 12 correct" "$work/a/test_results.txt" || fail "no test line"
grep -q "red-ish" "$work/a/confusion_test.txt" || fail "the confusion matrix lacks the dataset's class names"
python3 - "$work/a/best.safetensors" <<'PY' || fail "best.safetensors metadata is wrong"
import json, struct, sys
b = open(sys.argv[1], "rb").read()
m = json.loads(b[8:8 + struct.unpack("<Q", b[:8])[0]])["__metadata__"]
assert m["input_shape"] == "3,32,32", m
assert m["class_names"] == "blue-ish,green-ish,red-ish", m
assert len(m["input_mean"].split(",")) == 3 and len(m["input_std"].split(",")) == 3, m
assert m["model"] == "customnet" and m["w"] == "8", m
PY
imgs=("$work/rgb/test/red-ish/00.ppm" "$work/rgb/test/blue-ish/01.png")
"$bin/predict" --weights "$work/a/best.safetensors" --json "${imgs[@]}" > "$work/pred.jsonl" || fail "predict failed"
python3 - "$work/pred.jsonl" <<'PY' || fail "predict --json output is not valid"
import json, sys
classes = ["blue-ish", "green-ish", "red-ish"]
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 2, lines
for line in lines:
    o = json.loads(line)
    assert list(o["probs"]) == classes and abs(sum(o["probs"].values()) - 1) < 1e-5, o
    assert o["label"] == max(classes, key=lambda c: o["probs"][c]), o
PY
# A gray file of another size reads too (converted to RGB, resized by the model's aspect rule).
python3 -c "open('$work/gray.pgm','wb').write(b'P5\n50 30\n255\n' + bytes(range(50))*30)"
"$bin/predict" --weights "$work/a/best.safetensors" "$work/gray.pgm" | grep -qE "gray.pgm: (blue|green|red)-ish" \
  || fail "predict on a gray 50x30 image"
"$bin/evaluate" --weights "$work/a/best.safetensors" --data "$work/rgb" > "$work/eval.txt" || fail "evaluate failed"
want=$(grep -E "^Test: " "$work/a/test_results.txt" | sed 's/^Test: *//')
grep -qF "$want" "$work/eval.txt" || fail "evaluate (split test by default) disagrees with train: wanted '$want'"
grep -q "on test of" "$work/eval.txt" || fail "evaluate does not name the split"

# ---- 2. stored at 36x36, trained on random 32x32 crops; tested on the centre crop -------------------
"$bin/train" --model mobilenet --width 0.25 --data "$work/rgb36" --crop 32 --epochs 1 --max-steps 3 --tta tencrop \
  "${common[@]}" --out "$work/c" > "$work/c.log" 2>&1 || { cat "$work/c.log"; fail "train with --crop failed"; }
grep -q '"image_size": *"36,36"\|image_size' <(python3 -c "
import json,struct; b=open('$work/c/last.safetensors','rb').read(); print(json.dumps(json.loads(b[8:8+struct.unpack('<Q',b[:8])[0]])['__metadata__']))") \
  || fail "the crop model's metadata has no image_size"
"$bin/evaluate" --weights "$work/c/last.safetensors" --data "$work/rgb36" --tta tencrop > /dev/null || fail "evaluate a crop model"
"$bin/predict" --weights "$work/c/last.safetensors" "$work/rgb36/test/red-ish/00.ppm" > /dev/null || fail "predict a crop model"

# ---- 3. a flat folder: validation and test are both held-out slices ---------------------------------
"$bin/train" --model customnet --width 8 --data "$work/flat" --input-size 16 --epochs 1 "${common[@]}" \
  --out "$work/f" > "$work/f.log" 2>&1 || { cat "$work/f.log"; fail "train on a flat folder failed"; }
grep -q "test 2 (held-out slice" "$work/f.log" || { cat "$work/f.log"; fail "no held-out test slice on a flat folder"; }

# ---- 4. IDX, plain and gzipped; named classes; interrupted and resumed = uninterrupted --------------
idx=(--model customnet --width 8 --no-hflip --epochs 2 "${common[@]}")
"$bin/train" "${idx[@]}" --data "$work/idx" --class-names nw,ne,sw,se --out "$work/i" > "$work/i.log" 2>&1 \
  || { cat "$work/i.log"; fail "train on IDX failed"; }
grep -q "IDX files" "$work/i.log" || fail "the log does not say IDX"
"$bin/predict" --weights "$work/i/best.safetensors" "$work/gray.pgm" | grep -qE "gray.pgm: (nw|ne|sw|se) " \
  || fail "predict does not use the IDX model's class names"
"$bin/evaluate" --weights "$work/i/best.safetensors" --data "$work/idx" | grep -q "Got [0-9]* / 12 correct" \
  || fail "evaluate on IDX t10k"
if COLUMNS=1000 "$bin/train" --help | grep -q "gzip: yes"; then  # wide: --help wraps at the terminal width
  "$bin/train" "${idx[@]}" --data "$work/idxgz" --class-names nw,ne,sw,se --max-steps 5 --out "$work/g" > "$work/g1.log" 2>&1 \
    || { cat "$work/g1.log"; fail "first half on gzipped IDX failed"; }
  "$bin/train" "${idx[@]}" --data "$work/idxgz" --class-names nw,ne,sw,se --resume --out "$work/g" > "$work/g2.log" 2>&1 \
    || { cat "$work/g2.log"; fail "resume on gzipped IDX failed"; }
  # The tensors (header and data) bit for bit; the metadata differs in "flags" (the --data paths).
  python3 - "$work/i/last.safetensors" "$work/g/last.safetensors" <<'PY' || fail "gzipped+resumed run ended with other weights than the plain run"
import json, struct, sys
def tensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    meta = header.pop("__metadata__")
    meta.pop("flags")
    return header, meta, b[8 + n:]
assert tensors(sys.argv[1]) == tensors(sys.argv[2])
PY
fi

# ---- 5. fer2013.csv through `train`: FER-2013's splits and report ------------------------------------
"$bin/train" --model customnet --width 8 --data "$work/fer2013.csv" --epochs 1 --tta none "${common[@]}" \
  --out "$work/csv" > "$work/csv.log" 2>&1 || { cat "$work/csv.log"; fail "train on fer2013.csv failed"; }
grep -q "validation 7 (PublicTest), PrivateTest 7, Public+Private 14" "$work/csv.log" || { cat "$work/csv.log"; fail "no FER-2013 splits from the CSV"; }
grep -qE "^PrivateTest: +Checking accuracy on test set: Got [0-9]+ / 7 correct" "$work/csv/test_results.txt" \
  || fail "no PrivateTest line for the CSV run"

# ---- 6. bad input: one line on stderr, exit code 2 --------------------------------------------------
expect_error() {  # expect_error <pattern> <command...>
  local pattern=$1; shift
  set +e; "$@" > "$work/err.out" 2> "$work/err.txt"; local rc=$?; set -e
  [[ $rc -eq 2 ]] || fail "'$*' exited with $rc, expected 2: $(cat "$work/err.txt")"
  [[ $(wc -l < "$work/err.txt") -eq 1 ]] || fail "'$*' printed more than one error line: $(cat "$work/err.txt")"
  grep -q -- "$pattern" "$work/err.txt" || fail "'$*' error does not mention '$pattern': $(cat "$work/err.txt")"
}
t=("$bin/train" --epochs 1 --out "$work/bad")
expect_error "unknown model 'lenet'" "${t[@]}" --model lenet --data "$work/rgb"
expect_error "--blocks is a size argument of resnet" "${t[@]}" --model customnet --blocks 2 --data "$work/rgb"
expect_error "$work/nothing' does not exist" "${t[@]}" --data "$work/nothing"
printf 'x' > "$work/notes.txt"
expect_error "is a file but not a .csv" "${t[@]}" --data "$work/notes.txt"
mkdir -p "$work/empty"
expect_error "no sub-folders and no IDX files" "${t[@]}" --data "$work/empty"
expect_error "--channels" "${t[@]}" --data "$work/rgb" --channels 2
expect_error "--input-size" "${t[@]}" --data "$work/rgb" --input-size -3
expect_error "--crop 40" "${t[@]}" --data "$work/rgb" --crop 40
expect_error "needs inputs of at least 16x16" "${t[@]}" --model customnet --data "$work/rgb" --input-size 12
expect_error "--class-names has 3 names" "${t[@]}" --data "$work/idx" --class-names a,b,c
expect_error "--class-names" "${t[@]}" --data "$work/rgb" --class-names a,b,c
expect_error "--resize" "${t[@]}" --data "$work/rgb" --resize zoom
expect_error "--input-size" "${t[@]}" --data "$work/mixed"
expect_error "--validation public" "${t[@]}" --data "$work/rgb" --validation public
expect_error "flag --width: '8.7' is not a whole number" "${t[@]}" --data "$work/rgb" --width 8.7
expect_error "flag --seed: '1e30' is not an integer" "${t[@]}" --data "$work/rgb" --seed 1e30
expect_error "flag --data is empty" "${t[@]}" --data ""
expect_error "unexpected argument '/nonexistent/fer2013'" "$bin/evaluate" --weights "$work/a/best.safetensors" \
  --data "$work/rgb" /nonexistent/fer2013
expect_error "other settings" "$bin/train" --model customnet --width 8 --data "$work/rgb" --input-size 16 "${common[@]}" \
  --out "$work/a" --resume
echo "smoke_any_data: passed"
