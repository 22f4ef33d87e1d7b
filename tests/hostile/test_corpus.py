"""The hostile corpus (tests/hostile/corpus/, written by make_corpus.py): every file loads
in a child process under a wall-time and an address-space limit (load_many.py) and ends
in a scene with finite leaves or a ValueError; SVGWarnings are the only warnings allowed."""
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
SECONDS_PER_FILE = 60     # hang guard, far above the slowest file (a few seconds)
MEMORY_MB = 6144          # address space of each child (JAX reserves some at import)
BATCHES = 2


def corpus_files():
    return sorted(os.path.join(CORPUS, f) for f in os.listdir(CORPUS) if f.endswith(".svg"))


def run_batch(files):
    cmd = [sys.executable, os.path.join(HERE, "load_many.py"), str(SECONDS_PER_FILE), str(MEMORY_MB)] + files
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_corpus_has_at_least_100_files():
    assert len(corpus_files()) >= 100


def test_every_corpus_file_ends_cleanly():
    files = corpus_files()
    procs = [run_batch(files[k::BATCHES]) for k in range(BATCHES)]
    rows, problems = [], []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=SECONDS_PER_FILE * 4 + 120)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        started = [line[6:] for line in out.splitlines() if line.startswith("start ")]
        got = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        rows += got
        if proc.returncode != 0:
            problems.append(f"child exited {proc.returncode} while loading {started[-1] if started else '?'}: "
                            f"{err[-500:]}")
    for r in rows:
        if r["outcome"] not in ("scene", "value_error"):
            problems.append(f"{r['name']}: {r['outcome']} {r.get('error', '')} {r.get('message', '')}")
        elif not r["finite"]:
            problems.append(f"{r['name']}: non-finite scene leaf")
        elif set(r["warnings"]) - {"SVGWarning"}:
            problems.append(f"{r['name']}: foreign warnings {r['warnings']}")
    assert not problems, "\n".join(problems)
    assert len(rows) == len(files)
