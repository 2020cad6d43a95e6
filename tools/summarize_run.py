#!/usr/bin/env python3
"""Prints a markdown summary of a training run folder (history.csv, test_results.txt, the log):
epochs, wall time, best validation epoch, test accuracy lines and the per-epoch table.

    python3 tools/summarize_run.py runs/customnet_w32 [--log runs/customnet_w32.log]
"""
import argparse, csv, os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--log")
    a = ap.parse_args()
    rows = list(csv.DictReader(open(os.path.join(a.run, "history.csv"))))
    best = max(rows, key=lambda r: float(r["val_acc"]))
    train_s = sum(float(r["epoch_seconds"]) for r in rows)
    print("* epochs: %d, time in epochs (training + validation): %.1f min" % (len(rows), train_s / 60))
    print("* best validation (PublicTest) accuracy: %.2f%% at epoch %s" % (100 * float(best["val_acc"]), best["epoch"]))
    print("* median training speed: %.0f images/s" % sorted(float(r["images_per_second"]) for r in rows)[len(rows) // 2])
    print()
    print("```")
    print(open(os.path.join(a.run, "test_results.txt")).read().split("\nPrivateTest per class")[0].strip())
    print("```")
    print()
    print("| epoch | train loss | train acc | val loss | val acc | lr | epoch time |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %s | %.4f | %.2f%% | %.4f | %.2f%% | %.2e | %.0f s |" % (
            r["epoch"], float(r["train_loss"]), 100 * float(r["train_acc"]), float(r["val_loss"]),
            100 * float(r["val_acc"]), float(r["lr"]), float(r["epoch_seconds"])))


if __name__ == "__main__":
    main()
