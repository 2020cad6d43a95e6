#!/usr/bin/env bash
# predict (and evaluate's ensembles) on photos this script makes from the bundled sample faces
# (data/fer2013-sample) with the shipped weights (models/), no training:
#   a 640x400 scene with a small face pasted in (--crop, --boxes, --faces), a photo with two faces,
#   a 3:1 strip (the fit rules), an EXIF-rotated JPEG (orientation 6: read upright, --no-exif as
#   stored), per-file error records (missing, undecodable, a box outside the image) and --strict,
#   folders and "-" as inputs, the default weights, ensembles (--weights A,B: the mean of A's and
#   B's probabilities; evaluate's ensemble report; mismatched files refused naming both), --tta,
#   --annotate. --faces checks are skipped, saying so, when predict was built without OpenCV.
# usage: smoke_predict.sh <bin-dir> <source-dir>   (SMOKE_PREDICT_KEEP=DIR: make and keep everything in DIR)
set -euo pipefail
bin=$1
src=$2
work=${SMOKE_PREDICT_KEEP:-$(mktemp -d)}
[[ -n ${SMOKE_PREDICT_KEEP:-} ]] || trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
W=$src/models/customnet_w32.safetensors
M=$src/models/mobilenet_a0.5.safetensors
sample=$src/data/fer2013-sample/test
[[ -f $W && -f $M ]] || { echo "SKIP: the shipped weights are not in $src/models"; exit 4; }
[[ -d $sample ]] || { echo "SKIP: no bundled sample faces in $sample"; exit 4; }
P() { "$bin/predict" --threads 1 "$@"; }

# ---- 1. photos from sample faces ------------------------------------------------------------------
# The faces' pixels: predict --logits-out writes the normalised inputs, which python turns back
# into bytes (x * std + mean) * 255 (checked below: the PGM of a face predicts as its JPEG does).
faces=("$sample/happy/PrivateTest_10077120.jpg" "$sample/surprise/$(ls "$sample/surprise" | head -1)")
P --weights "$W" --logits-out "$work/faces.safetensors" "${faces[@]}" > /dev/null || fail "predict --logits-out"
python3 - "$work" "$W" "${faces[0]}" <<'PY' || fail "making the photos"
import json, os, random, struct, sys
work, weights, jpeg = sys.argv[1:4]

def header(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    return json.loads(b[8:8 + n]), b[8 + n:]

meta = header(weights)[0]["__metadata__"]
mean, std = float(meta["input_mean"]), float(meta["input_std"])
h, body = header(os.path.join(work, "faces.safetensors"))
t = h["inputs"]
assert t["shape"][1:] == [1, 48, 48], t
start, end = t["data_offsets"]
vals = struct.unpack("<%df" % ((end - start) // 4), body[start:end])
faces = [[max(0, min(255, round((v * std + mean) * 255))) for v in vals[i * 2304:(i + 1) * 2304]]
         for i in range(t["shape"][0])]

def pgm(name, w, hh, px):
    open(os.path.join(work, name), "wb").write(b"P5\n%d %d\n255\n" % (w, hh) + bytes(px))

def scene(w, hh, seed):  # a smooth gray gradient with mild noise
    rng = random.Random(seed)
    return [min(255, 90 + (x * 60) // w + (y * 40) // hh + rng.randrange(12)) for y in range(hh) for x in range(w)]

def paste(px, w, face, x0, y0, k):  # face scaled k times (nearest), top-left at (x0, y0)
    for y in range(48 * k):
        row = (y0 + y) * w + x0
        for x in range(48 * k):
            px[row + x] = face[(y // k) * 48 + x // k]

pgm("face0.pgm", 48, 48, faces[0])
s = scene(640, 400, 1); paste(s, 640, faces[0], 400, 120, 3); pgm("scene.pgm", 640, 400, s)     # box 400,120,144,144
s = scene(720, 360, 2); paste(s, 720, faces[0], 60, 90, 3); paste(s, 720, faces[1], 420, 100, 3)
pgm("two.pgm", 720, 360, s)                                                                       # 60,90,144,144 and 420,100,144,144
s = scene(288, 96, 3); paste(s, 288, faces[0], 96, 0, 2); pgm("strip.pgm", 288, 96, s)           # 3:1, the face in the middle
pgm("noface.pgm", 320, 240, scene(320, 240, 4))
# EXIF orientation 6 (turn 90 degrees clockwise to display): the JPEG's bytes with an APP1 segment
# after SOI; rot.pgm holds what it displays, pixel (x', y') = stored (y', 47 - x').
tiff = b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00\x01" + b"\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00" + b"\x00\x00\x00\x00"
app1 = b"Exif\x00\x00" + tiff
data = open(jpeg, "rb").read()
assert data[:2] == b"\xff\xd8"
open(os.path.join(work, "exif6.jpg"), "wb").write(data[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + data[2:])
pgm("rot.pgm", 48, 48, [faces[0][(47 - x) * 48 + y] for y in range(48) for x in range(48)])
open(os.path.join(work, "garbage.jpg"), "wb").write(b"\xff\xd8 not really a jpeg")
PY

# Compares the "probs" of two JSON-lines files, record by record: exact, or within a tolerance.
same_probs() {  # same_probs A B [tolerance]
  python3 - "$1" "$2" "${3:-0}" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
tol = float(sys.argv[3])
assert len(a) == len(b) and a, (len(a), len(b))
for x, y in zip(a, b):
    assert x["probs"].keys() == y["probs"].keys(), (x, y)
    d = max(abs(x["probs"][k] - y["probs"][k]) for k in x["probs"])
    assert d <= tol, ("probs differ by %g" % d, x, y)
PY
}

# ---- 2. the record format, and the photo as decoded ------------------------------------------------
P --weights "$W" --json "${faces[0]}" > "$work/jpg.jsonl"
P --weights "$W" --json "$work/face0.pgm" > "$work/pgm.jsonl"
same_probs "$work/jpg.jsonl" "$work/pgm.jsonl" || fail "the face's PGM does not predict as its JPEG (pixels not recovered)"
python3 - "$work/jpg.jsonl" <<'PY' || fail "predict --json record"
import json, sys
o = json.loads(open(sys.argv[1]).read())
classes = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
assert list(o) == ["file", "box", "label", "probs"], o
assert o["box"] == [0, 0, 48, 48], o
assert list(o["probs"]) == classes and abs(sum(o["probs"].values()) - 1) < 1e-5, o
assert o["label"] == max(classes, key=lambda c: o["probs"][c]), o
PY

# ---- 3. EXIF orientation 6: upright; --no-exif: as stored ---------------------------------------
P --weights "$W" --json "$work/exif6.jpg" > "$work/exif.jsonl"
P --weights "$W" --json "$work/rot.pgm" > "$work/rot.jsonl"
same_probs "$work/exif.jsonl" "$work/rot.jsonl" || fail "an EXIF-6 JPEG is not read as its upright pixels"
P --weights "$W" --json --no-exif "$work/exif6.jpg" > "$work/noexif.jsonl"
same_probs "$work/noexif.jsonl" "$work/jpg.jsonl" || fail "--no-exif does not read the pixels as stored"

# ---- 4. a small face in a large scene: --crop, --boxes; a 3:1 strip under the fit rules ----------
P --weights "$W" --json "$work/scene.pgm" > "$work/scene_whole.jsonl"
P --weights "$W" --json --crop 400,120,144,144 "$work/scene.pgm" > "$work/scene_crop.jsonl"
same_probs "$work/scene_crop.jsonl" "$work/pgm.jsonl" 0.02 || fail "--crop of the pasted face does not predict as the face"
grep -q '"box": \[400, 120, 144, 144\]' "$work/scene_crop.jsonl" || fail "--crop box not reported"
P --weights "$W" --json "$work/strip.pgm" > "$work/strip_crop.jsonl"
P --weights "$W" --json --fit stretch --crop 96,0,96,96 "$work/strip.pgm" > "$work/strip_centre.jsonl"
same_probs "$work/strip_crop.jsonl" "$work/strip_centre.jsonl" || fail "--fit crop is not the centred 96x96 window of a 288x96 strip"
grep -q '"box": \[0, 0, 288, 96\]' "$work/strip_crop.jsonl" || fail "the strip's box is not the whole image"
for f in stretch letterbox; do
  P --weights "$W" --json --fit $f "$work/strip.pgm" > "$work/strip_$f.jsonl"
  ! same_probs "$work/strip_crop.jsonl" "$work/strip_$f.jsonl" 2>/dev/null || fail "--fit $f gives the centre crop's answer"
done

cat > "$work/boxes.txt" <<EOF
# made by smoke_predict.sh
$work/scene.pgm 400 120 144 144
$work/two.pgm 60 90 144 144
$work/missing.pgm 0 0 10 10
$work/two.pgm 420 100 144 144
$work/strip.pgm 250 0 96 96
EOF
set +e
P --weights "$W" --json --boxes "$work/boxes.txt" > "$work/boxes.jsonl"
status=$?
set -e
[[ $status -eq 1 ]] || fail "--boxes with failing files exited $status, expected 1"
python3 - "$work/boxes.jsonl" "$work" <<'PY' || fail "--boxes records"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
w = sys.argv[2]
assert [x["file"] for x in r] == [w + "/scene.pgm", w + "/two.pgm", w + "/two.pgm", w + "/missing.pgm", w + "/strip.pgm"], r
assert r[0]["box"] == [400, 120, 144, 144] and r[1]["box"] == [60, 90, 144, 144] and r[2]["box"] == [420, 100, 144, 144], r
assert "cannot open" in r[3]["error"] or "No such file" in r[3]["error"], r[3]
assert "does not fit in the image (288x96" in r[4]["error"], r[4]
assert all(set(x) == {"file", "error"} for x in r[3:]), r
PY
P --weights "$W" --json --boxes - < "$work/boxes.txt" > "$work/boxes_stdin.jsonl" || [[ $? -eq 1 ]] || fail "--boxes -"
cmp -s "$work/boxes.jsonl" "$work/boxes_stdin.jsonl" || fail "--boxes - (stdin) differs from --boxes FILE"
set +e
P --weights "$W" --json --strict --boxes "$work/boxes.txt" > "$work/strict.out" 2> "$work/strict.err"
status=$?
set -e
[[ $status -eq 2 && ! -s "$work/strict.out" ]] || fail "--strict: exit $status (expected 2) or output printed"
grep -q "missing.pgm" "$work/strict.err" || fail "--strict error does not name the file"

# ---- 5. error records for positional files, folders, "-", the default weights ---------------------
set +e
P --weights "$W" --json "$work/garbage.jpg" "$work/face0.pgm" "$work/nothere.png" > "$work/err.jsonl" 2> "$work/err.txt"
status=$?
set -e
[[ $status -eq 1 ]] || fail "a batch with bad files exited $status, expected 1"
python3 - "$work/err.jsonl" <<'PY' || fail "error records"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert len(r) == 3 and "error" in r[0] and "cannot decode" in r[0]["error"] and r[1]["label"] and "error" in r[2], r
PY
set +e
P --weights "$W" "$work/garbage.jpg" "$work/face0.pgm" > "$work/err_text.out" 2> "$work/err_text.err"
set -e
grep -q "face0.pgm: " "$work/err_text.out" && grep -q "garbage.jpg: cannot decode" "$work/err_text.err" \
  || fail "text mode: results on stdout, errors on stderr"
mkdir -p "$work/folder/sub"
cp "$work/face0.pgm" "$work/folder/b.pgm"; cp "$work/rot.pgm" "$work/folder/sub/a.pgm"; echo x > "$work/folder/notes.txt"
P --weights "$W" --json "$work/folder" > "$work/folder.jsonl" || fail "predict on a folder"
[[ $(wc -l < "$work/folder.jsonl") -eq 2 ]] && head -1 "$work/folder.jsonl" | grep -q '"file": ".*folder/b.pgm"' \
  || fail "a folder gives its image files in sorted order"
printf '%s\n' "$work/folder/b.pgm" "$work/folder/sub/a.pgm" | P --weights "$W" --json - > "$work/stdin.jsonl"
cmp -s "$work/folder.jsonl" "$work/stdin.jsonl" || fail "'-' (a list on stdin) differs from the folder"
case "$(cd "$bin" && pwd -P)/" in
  "$(cd "$src" && pwd -P)"/*)
    P --json "$work/face0.pgm" > "$work/default.jsonl" || fail "predict without --weights"
    cmp -s "$work/default.jsonl" "$work/pgm.jsonl" || fail "the default weights are not $W" ;;
  *) echo "note: $bin is outside $src, the default --weights is not checked" ;;
esac

# ---- 6. ensembles: the mean of the members' probabilities; mismatches named ----------------------
P --weights "$M" --json --tta flip "${faces[@]}" > "$work/m.jsonl"
P --weights "$W" --json --tta flip "${faces[@]}" > "$work/w.jsonl"
P --weights "$W,$M" --json --tta flip "${faces[@]}" > "$work/wm.jsonl"
P --weights "$W,$W" --json --tta flip "${faces[@]}" > "$work/ww.jsonl"
cmp -s "$work/ww.jsonl" "$work/w.jsonl" || fail "an ensemble of a model with itself is not the model"
python3 - "$work/w.jsonl" "$work/m.jsonl" "$work/wm.jsonl" <<'PY' || fail "--weights A,B is not the mean of A and B"
import json, sys
a, b, e = ([json.loads(l) for l in open(p)] for p in sys.argv[1:4])
assert len(e) == 2
for x, y, z in zip(a, b, e):
    for k in z["probs"]:
        assert abs(z["probs"][k] - (x["probs"][k] + y["probs"][k]) / 2) < 1e-6, (k, x, y, z)
    assert z["label"] == max(z["probs"], key=z["probs"].get)
PY
python3 - "$W" "$work/renamed.safetensors" <<'PY'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
h["__metadata__"]["class_names"] = "angry,disgust,fear,joy,neutral,sad,surprise"
s = json.dumps(h).encode()
s += b" " * (-len(s) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(s)) + s + b[8 + n:])
PY
set +e
P --weights "$W,$work/renamed.safetensors" "$work/face0.pgm" > /dev/null 2> "$work/mismatch.err"
status=$?
set -e
[[ $status -eq 2 && $(wc -l < "$work/mismatch.err") -eq 1 ]] || fail "a mismatched ensemble: exit $status, $(cat "$work/mismatch.err")"
grep -qF "ensemble: $W has the classes {angry,disgust,fear,happy,neutral,sad,surprise}, $work/renamed.safetensors {angry,disgust,fear,joy" \
  "$work/mismatch.err" || fail "the mismatch error does not name both files: $(cat "$work/mismatch.err")"
"$bin/evaluate" --threads 1 --weights "$W,$M" --data "$src/data/fer2013-sample" --split private > "$work/ens_eval.txt" \
  || fail "evaluate an ensemble"
"$bin/evaluate" --threads 1 --weights "$W" --data "$src/data/fer2013-sample" --split private > "$work/w_eval.txt"
"$bin/evaluate" --threads 1 --weights "$M" --data "$src/data/fer2013-sample" --split private > "$work/m_eval.txt"
python3 - "$work/ens_eval.txt" "$work/w_eval.txt" "$work/m_eval.txt" <<'PY' || fail "evaluate's ensemble report"
import re, sys
ens, w, m = (open(p).read() for p in sys.argv[1:4])
assert ens.startswith("ensemble of 2: "), ens[:200]
got = lambda t: re.search(r"Got (\d+) / (\d+) correct", t).groups()
alone = re.search(r"members alone: .* ([\d.]+)%, .* ([\d.]+)%", ens).groups()
for (c, n), pct in zip((got(w), got(m)), alone):
    assert abs(100 * int(c) / int(n) - float(pct)) < 0.006, (c, n, pct)
assert "confusion matrix" in ens and "precision" in ens
PY

# ---- 7. --faces (OpenCV) and --annotate -----------------------------------------------------------
set +e
P --weights "$W" --json --faces "$work/scene.pgm" > "$work/faces_scene.jsonl" 2> "$work/faces.err"
status=$?
set -e
if grep -q "built without OpenCV" "$work/faces.err"; then
  echo "SKIP: predict was built without OpenCV: the --faces checks did not run"
else
  [[ $status -eq 0 ]] || fail "--faces exited $status: $(cat "$work/faces.err")"
  P --weights "$W" --json --faces "$work/two.pgm" "$work/noface.pgm" > "$work/faces_two.jsonl"
  python3 - "$work/faces_scene.jsonl" "$work/faces_two.jsonl" <<'PY' || fail "--faces did not find the pasted faces"
import json, sys
def iou(a, b):
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / (a[2] * a[3] + b[2] * b[3] - ix * iy)
scene = [json.loads(l) for l in open(sys.argv[1])]
assert len(scene) == 1 and iou(scene[0]["box"], [400, 120, 144, 144]) > 0.4, scene
two = [json.loads(l) for l in open(sys.argv[2])]
assert [r["file"].rsplit("/", 1)[1] for r in two] == ["two.pgm", "two.pgm", "noface.pgm"], two
assert iou(two[0]["box"], [60, 90, 144, 144]) > 0.4 and iou(two[1]["box"], [420, 100, 144, 144]) > 0.4, two
assert two[2] == {"file": two[2]["file"], "faces": 0}, two[2]
PY
  P --weights "$W" --faces --annotate "$work/scene_annotated.png" "$work/scene.pgm" > /dev/null || fail "--annotate"
  python3 - "$work/scene_annotated.png" <<'PY' || fail "--annotate did not write a 640x400 PNG"
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", b[16:24]) == (640, 400)
PY
fi
P --weights "$W" --boxes "$work/boxes.txt" --annotate "$work/annotated" > /dev/null 2>&1 || true
[[ -f "$work/annotated/1-scene.png" && -f "$work/annotated/2-two.png" ]] || fail "--annotate with several images: a folder of <n>-<name>.png"
echo "smoke_predict: all checks passed"
