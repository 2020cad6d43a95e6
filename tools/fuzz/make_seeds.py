#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tools/fuzz/targets.hpp) into tools/fuzz/corpus/<target>/.

Seeds named ok-* are files the reader must accept (tests/io/fuzz_corpus.cpp checks it in the normal
build); the others are near misses that it must refuse cleanly. Everything is made here from the
format descriptions, except the weights file and the training state, which a real run writes:
with --train BIN the script trains ResNet-48 width 1 for one step on a made-up 16x16 IDX dataset
(well under a second) and keeps its last.safetensors and last.state.safetensors.

  python3 tools/fuzz/make_seeds.py [--train build/release/examples/train]

The committed corpus was made with it (2026-12-01); findings of fuzz runs are added beside the
seeds as crash-* / slow-* files (scripts/fuzz.sh), replayed the same way.
"""
import argparse
import gzip
import json
import os
import shutil
import struct
import subprocess
import tempfile
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, bytes)."""
    header, offset, body = {}, 0, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        body += data
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + body


def idx_pair(n, rows, cols, opener=None):
    images = struct.pack(">IIII", 0x803, n, rows, cols) + bytes((i * 37) % 256 for i in range(n * rows * cols))
    labels = struct.pack(">II", 0x801, n) + bytes(i % 2 for i in range(n))
    if opener:
        images, labels = gzip.compress(images, mtime=0), gzip.compress(labels, mtime=0)
    return images, labels


def png(width, height, color_type, rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\0" + r for r in rows)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def bmp24(width, height):
    row = bytes((x * 40) % 256 for x in range(width * 3))
    row += b"\0" * ((4 - len(row) % 4) % 4)
    pixels = row * height
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + len(pixels), 0, 0, 54) + info + pixels


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", help="the `train` program: also make the weights and training-state seeds")
    args = ap.parse_args()

    # ---- json: the safetensors header parser
    put("json", "ok-header.json", '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}')
    put("json", "ok-values.json", '[1,-0.0,1e-8,1.5e308,-9223372036854775808,"a\\u00e9\\ud83d\\ude00\\n",true,false,null,{"k":[[]]}]  ')
    put("json", "bad-trailing-comma.json", '{"a":1,}')
    put("json", "bad-duplicate-key.json", '{"a":1,"a":2}')
    put("json", "bad-lone-surrogate.json", '"\\ud800"')

    # ---- safetensors: a weights file's container (the real weights file comes from --train)
    put("safetensors", "tensors-no-model.safetensors",
        safetensors([("a", "F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)), ("b", "I64", [], struct.pack("<q", 7))],
                    {"format": "pt"}))
    put("safetensors", "metadata-only.safetensors",
        safetensors([], {"model": "customnet", "w": "8", "input_shape": "1,48,48", "input_mean": "0.5",
                         "input_std": "0.25", "class_names": "a,b"}))

    # ---- fer_csv: FER-2013's CSV (2,304 pixels a row)
    pixels = " ".join(str((i * 7) % 256) for i in range(48 * 48))
    put("fer_csv", "ok-one-row.csv", f"emotion,pixels,Usage\n3,{pixels},Training\n")
    put("fer_csv", "ok-bom-crlf.csv", f"\ufeffemotion,pixels,Usage\r\n6,{pixels},PrivateTest\r\n")
    put("fer_csv", "short-row.csv", "emotion,pixels,Usage\n0,1 2 3,Training\n")

    # ---- idx: [u16 little-endian length of the images file][images file][labels file]
    for name, opener in (("ok-plain.idx", None), ("ok-gzip.idx", gzip.open)):
        images, labels = idx_pair(4, 3, 5, opener)
        put("idx", name, struct.pack("<H", len(images)) + images + labels)
    images, labels = idx_pair(4, 3, 5)
    put("idx", "count-mismatch.idx", struct.pack("<H", len(images)) + images + labels[:4] + struct.pack(">I", 5) + labels[8:])

    # ---- image: every format family decode_image checks before stb
    put("image", "ok-gray.png", png(4, 3, 0, [bytes([10 * x + y for x in range(4)]) for y in range(3)]))
    put("image", "ok-rgb.png", png(3, 2, 2, [bytes(range(9)) for _ in range(2)]))
    put("image", "ok-rgb.bmp", bmp24(5, 3))
    put("image", "ok-gray.pgm", b"P5\n4 3\n255\n" + bytes(range(0, 240, 20)))
    put("image", "ok-gray16.pgm", b"P5 2 2 65535\n" + struct.pack(">4H", 0, 1000, 40000, 65535))
    put("image", "ok-rgb.ppm", b"P6\n2 2\n255\n" + bytes(range(12)))
    sample = os.path.join(os.path.dirname(ROOT), "..", "..", "data", "fer2013-sample", "test", "happy")
    jpegs = sorted(f for f in os.listdir(sample) if f.endswith(".jpg"))
    shutil.copyfile(os.path.join(sample, jpegs[0]), os.path.join(ROOT, "image", "ok-face.jpg"))
    put("image", "bad-crc.png", png(2, 2, 0, [b"\1\2", b"\3\4"])[:-5] + b"\0\0\0\0\0")

    if args.train:
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "idx")
            os.makedirs(data)
            for split, n in (("train", 16), ("t10k", 8)):
                images, labels = idx_pair(n, 16, 16)
                open(os.path.join(data, f"{split}-images-idx3-ubyte"), "wb").write(images)
                open(os.path.join(data, f"{split}-labels-idx1-ubyte"), "wb").write(labels)
            out = os.path.join(tmp, "run")
            subprocess.run([args.train, "--model", "resnet", "--width", "1", "--data", data, "--epochs", "1",
                            "--batch-size", "4", "--max-steps", "1", "--threads", "1", "--tta", "none", "--out", out],
                           check=True, stdout=subprocess.DEVNULL)
            shutil.copyfile(os.path.join(out, "last.safetensors"), os.path.join(ROOT, "safetensors", "ok-resnet-w1.safetensors"))
            shutil.copyfile(os.path.join(out, "last.state.safetensors"),
                            os.path.join(ROOT, "training_state", "ok-resnet-w1.state.safetensors"))
    put("training_state", "not-a-state.safetensors", safetensors([], {"format": "pt"}))
    put("training_state", "zero-epochs.safetensors",
        safetensors([], {"format": "moodnet-training-state-1", "epochs_total": "0", "epoch": "0"}))


if __name__ == "__main__":
    main()
