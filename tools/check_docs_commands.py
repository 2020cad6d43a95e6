#!/usr/bin/env python3
"""Runs the shell commands of README.md and docs/*.md as written, and fails naming the doc, the line
and the command of each one that does not work.

    python3 tools/check_docs_commands.py --bin build/release/examples [--source .] [--list]

Which lines are commands (code blocks only; prose and inline code are not read):
  - in a fenced block marked sh, bash, shell or console: every line but blank and comment lines;
  - in any other code block (fenced without a language, or indented by 4 spaces): a line whose
    first word is a command of this repository or a tool: build/..., scripts/..., tools/...,
    tests/..., bench/..., bash, sh, python3, /usr/bin/python3, cmake, ctest, mpirun, mpiexec,
    mkdir, echo (after any VAR=value words). Fenced cpp/cmake/json/python/text blocks are code, not
    commands. A line ending in a backslash continues on the next.

Every command is checked without running it: the programs are called from build/release or
build/portable (the presets' folders: a private build folder such as build/gemm-rel fails), the
program exists (examples/<name>.cpp, bench/<name>.cpp), and every repository path it names
(models/, data/, scripts/, tools/, tests/, docs/, bench/, examples/, globs allowed) exists.

Then the short ones run, in order, in a scratch folder that links every top-level entry of the
source tree but build/ and runs/ (so repository paths resolve and runs/... outputs stay out of the
tree), with
build/<preset>/examples/ replaced by --bin, OMP_NUM_THREADS=1 and $MOODNET_DATA unset, each with
a time limit (--timeout, 120 s). Long ones are listed as skipped, never run, by these rules:
  - scripts/*.sh (setup, training, the test suite, fuzzing, experiments), cmake and ctest (builds);
  - a trainer (build/.../examples/train*) without --help or --version, mpirun/mpiexec (trainings);
  - bench/ programs and scripts (benchmarks);
  - a command naming ../shared/ (the full FER-2013: minutes of evaluation, or a training);
  - tools/compare_with_pytorch.py and bench/compare_pytorch.py when PyTorch is not installed;
  - every command of a block preceded by the line <!-- docs-commands: skip REASON --> (e.g. a
    worked example on the reader's own photos), with that reason.
Exit status: 0 when every check and every run passed, 1 otherwise.
"""
import argparse
import glob
import os
import re
import shlex
import subprocess
import sys
import tempfile

COMMAND_WORDS = {"bash", "sh", "python3", "/usr/bin/python3", "cmake", "ctest", "mpirun", "mpiexec", "mkdir", "echo"}
COMMAND_DIRS = ("build/", "scripts/", "tools/", "tests/", "bench/")
REPO_DIRS = ("models/", "data/", "scripts/", "tools/", "tests/", "docs/", "bench/", "examples/")
SHELL_LANGS = {"sh", "bash", "shell", "console"}
CODE_LANGS = {"cpp", "c++", "c", "cmake", "json", "python", "py", "text", "txt", "csv", "yaml", "toml"}
PRESET_DIRS = ("release", "portable", "debug", "sanitize")
SKIP_MARK = re.compile(r"<!--\s*docs-commands:\s*skip\s*(.*?)\s*-->")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


class Command:
    def __init__(self, doc, line, text, skip_reason=None):
        self.doc, self.line, self.text, self.skip_reason = doc, line, text, skip_reason

    def where(self):
        return f"{self.doc}:{self.line}"


def words_of(text):
    try:
        return shlex.split(text, comments=True)
    except ValueError:
        return text.split()


def first_program(words):
    """The first word that is not a VAR=value assignment, and the words after it."""
    for i, w in enumerate(words):
        if not ASSIGNMENT.match(w):
            return w, words[i + 1:]
    return "", []


def looks_like_command(text):
    prog, _ = first_program(words_of(text))
    return prog in COMMAND_WORDS or prog.startswith(COMMAND_DIRS)


def extract(doc, source):
    """The commands of one markdown file, in order."""
    lines = open(os.path.join(source, doc), encoding="utf-8").read().split("\n")
    commands = []
    fence, lang, skip, pending_skip = None, "", None, None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = SKIP_MARK.search(line)
        if m and fence is None:
            pending_skip = m.group(1) or "marked skip"
            i += 1
            continue
        fm = re.match(r"^\s*(```+|~~~+)\s*([\w+-]*)", line)
        if fm:
            if fence is None:
                fence, lang, skip, pending_skip = fm.group(1), fm.group(2).lower(), pending_skip, None
            elif line.strip().startswith(fence):
                fence, lang, skip = None, "", None
            i += 1
            continue
        indented = fence is None and line.startswith("    ") and prev_blank_or_code(lines, i)
        if fence is not None or indented:
            body = line.strip() if fence is not None else line[4:].strip()
            start = i + 1
            # A continued line: join with the following ones.
            while body.endswith("\\") and i + 1 < len(lines):
                i += 1
                body = body[:-1].rstrip() + " " + lines[i].strip()
            is_command = False
            if body and not body.startswith("#"):
                if fence is not None and lang in SHELL_LANGS:
                    is_command = True
                elif lang not in CODE_LANGS:
                    is_command = looks_like_command(body)
            if is_command:
                commands.append(Command(doc, start, body, skip if fence is not None else pending_skip))
        if fence is None and not indented:
            if line.strip() and not SKIP_MARK.search(line):
                pending_skip = None if not line.startswith("    ") else pending_skip
        i += 1
    return commands


def prev_blank_or_code(lines, i):
    """An indented line is code when its run of indented lines starts after a blank line that does
    not follow a list item (a list item's continuation is indented too) or the start of the file."""
    s = i
    while s > 0 and lines[s - 1].startswith("    "):
        s -= 1
    if s == 0:
        return True
    if lines[s - 1].strip():
        return False  # directly after a paragraph line: a lazy continuation, not code
    k = s - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    return k < 0 or not re.match(r"^\s*([-*+]|\d+\.)\s", lines[k])


def long_reason(cmd, have_torch):
    """Why a command is not run here, or None for a short one."""
    if cmd.skip_reason:
        return cmd.skip_reason
    words = words_of(cmd.text)
    prog, args = first_program(words)
    text = cmd.text
    if prog in ("bash", "sh") and args:
        prog, args = args[0], args[1:]
    if "../shared/" in text:
        return "uses the full FER-2013 (../shared/)"
    if prog.startswith("scripts/") or prog in ("cmake", "ctest"):
        return "installs, builds or trains"
    if prog in ("mpirun", "mpiexec"):
        return "a distributed training"
    if prog.startswith("bench/") or re.match(r"build/[^/]+/bench/", prog):
        return "a benchmark"
    if re.match(r"build/[^/]+/examples/train", prog) and not {"--help", "--version", "-h"} & set(args):
        return "a training"
    if ("compare_with_pytorch.py" in text or "compare_pytorch.py" in text) and not have_torch:
        return "needs PyTorch (python3-torch), not installed"
    return None


def static_problems(cmd, source):
    """What is wrong with a command without running it."""
    problems = []
    for segment in re.split(r"\|\||&&|\||;", cmd.text):
        words = words_of(segment)
        prog, args = first_program(words)
        if prog in ("bash", "sh") and args:
            prog, args = args[0], args[1:]
        m = re.match(r"build/([^/]+)/(examples|bench)/([^/\s]+)$", prog)
        if prog.startswith("build/"):
            if not m:
                problems.append(f"{prog}: not a program of a build folder (build/<preset>/examples/NAME)")
            elif m.group(1) not in PRESET_DIRS:
                problems.append(f"{prog}: build/{m.group(1)} is not a preset's folder ({', '.join(PRESET_DIRS)})")
            elif not any(os.path.exists(os.path.join(source, m.group(2), n + ".cpp"))
                         for n in (m.group(3), m.group(3).removeprefix("bench_"))):
                problems.append(f"{prog}: no program {m.group(3)} ({m.group(2)}/{m.group(3)}.cpp)")
        for w in [prog] + [piece for arg in args for piece in arg.split()]:
            for piece in w.split(","):
                piece = piece.split("=", 1)[-1] if piece.startswith("--") else piece
                if piece.startswith(REPO_DIRS) and not glob.glob(os.path.join(source, piece)):
                    problems.append(f"{piece}: no such file in the repository")
    return problems


def run(cmd, source, bin_dir, scratch, timeout):
    text = re.sub(r"\bbuild/(%s)/examples(?=/|\s|$)" % "|".join(PRESET_DIRS), bin_dir.rstrip("/"), cmd.text)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("MOODNET_DATA", None)
    try:
        p = subprocess.run(["bash", "-o", "pipefail", "-c", text], cwd=scratch, env=env, capture_output=True,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"did not finish in {timeout} s"
    if p.returncode != 0:
        tail = (p.stderr.strip() or p.stdout.strip()).splitlines()[-3:]
        return f"exit status {p.returncode}: " + " | ".join(tail)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--bin", help="folder of the built example programs (build/release/examples)")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--list", action="store_true", help="list the commands and their class; run nothing")
    a = ap.parse_args()
    source = os.path.abspath(a.source)
    docs = ["README.md"] + sorted(os.path.relpath(p, source) for p in glob.glob(os.path.join(source, "docs", "*.md")))
    try:
        import importlib.util
        have_torch = importlib.util.find_spec("torch") is not None
    except Exception:
        have_torch = False
    commands = [c for d in docs for c in extract(d, source)]
    failures = []
    for c in commands:
        for p in static_problems(c, source):
            failures.append(f"{c.where()}: {p}\n    {c.text}")
    if a.list:
        for c in commands:
            print(f"{c.where()}: [{'skip: ' + long_reason(c, have_torch) if long_reason(c, have_torch) else 'run'}] {c.text}")
        for f in failures:
            print("FAIL " + f)
        return 1 if failures else 0
    if not a.bin:
        ap.error("--bin is needed to run the commands (or --list)")
    bin_dir = os.path.abspath(a.bin)
    ran = skipped = 0
    with tempfile.TemporaryDirectory(prefix="docs-commands-") as scratch:
        for entry in os.listdir(source):
            if entry not in (".git", "build", "runs"):  # runs/: the commands' outputs stay in the scratch folder
                os.symlink(os.path.join(source, entry), os.path.join(scratch, entry))
        for c in commands:
            reason = long_reason(c, have_torch)
            if reason:
                skipped += 1
                print(f"skip {c.where()} ({reason}): {c.text}")
                continue
            ran += 1
            problem = run(c, source, bin_dir, scratch, a.timeout)
            print(f"{'FAIL' if problem else 'ok  '} {c.where()}: {c.text}")
            if problem:
                failures.append(f"{c.where()}: {problem}\n    {c.text}")
    print(f"{len(commands)} commands: {ran} run, {skipped} skipped (long), {len(failures)} failed")
    for f in failures:
        print("FAIL " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
