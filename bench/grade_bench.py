"""What a full grade costs: time, CPU and memory of grading the reference solution.

Grades ``solutions/`` with the real command line (``python -m grader grade``, the grade
profile, hidden tests included) and measures, for the whole process tree (the grading
process, the sandbox worker and every part's process):

* wall time, and CPU time of all the processes;
* peak memory, polling /proc every 50 ms for the tree's summed RSS, PSS (PSS counts
  pages shared between processes once, so it is the tree's real footprint) and
  anonymous memory (what cannot be dropped and re-read from the TensorFlow libraries);
* the same grade restricted to one CPU core (``sched_setaffinity``);
* the "bare" training time: the same training runs (same data sizes, epochs, settings,
  model builder and TensorBoard logging as ``grader.config.GRADE``) done directly in one
  Python process with Keras, and the grade/bare ratio (the grader's overhead).

Prints a markdown table. Not a test: run it by hand (``make bench``) on an idle machine.

Usage::

    python bench/grade_bench.py [--root CHECKOUT] [--repeat 1] [--skip-single-core]

``--root`` measures another checkout of the grader (e.g. an older commit) with this
script, for before/after comparisons.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
POLL_SECONDS = 0.05


def _children_map():
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    return children


def _tree(pid):
    tree, found, stack = _children_map(), [pid], [pid]
    while stack:
        for child in tree.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _memory(pid):
    """(rss, pss, anonymous) of one process in bytes; zeros if it is gone."""
    found = {"Rss:": 0, "Pss:": 0, "Anonymous:": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                key = line.split(" ", 1)[0]
                if key in found:
                    found[key] = int(line.split()[1]) * 1024
    except OSError:
        pass
    return found["Rss:"], found["Pss:"], found["Anonymous:"]


def measure(command, *, cwd, env=None, cpus=None):
    """Run ``command``; returns wall seconds, CPU seconds of the whole tree, peak summed
    RSS and PSS in MB, peak process count, and the exit status."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    preexec = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, env=env, preexec_fn=preexec,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak_rss = peak_pss = peak_anon = peak_count = 0
    output = []
    os.set_blocking(process.stdout.fileno(), False)
    while process.poll() is None:
        pids = _tree(process.pid)
        sizes = [_memory(pid) for pid in pids]
        peak_rss = max(peak_rss, sum(s[0] for s in sizes))
        peak_pss = max(peak_pss, sum(s[1] for s in sizes))
        peak_anon = max(peak_anon, sum(s[2] for s in sizes))
        peak_count = max(peak_count, len(pids))
        chunk = process.stdout.read()
        if chunk:
            output.append(chunk)
        time.sleep(POLL_SECONDS)
    wall = time.monotonic() - started
    output.append(process.stdout.read() or b"")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak_rss / 2**20,
            "peak_pss_mb": peak_pss / 2**20, "peak_anon_mb": peak_anon / 2**20,
            "processes": peak_count,
            "status": process.returncode, "output": b"".join(output).decode("utf-8", "replace")}


def grade_once(root, results, cpus=None):
    command = [sys.executable, "-m", "grader", "grade", "solutions", "--results", str(results)]
    figures = measure(command, cwd=root, cpus=cpus)
    document = json.loads(Path(results).read_text())
    figures["score"] = f"{document['score']:g}/{sum(t['max_score'] for t in document['tests']):g}"
    return figures


BARE_TRAINING = r'''
import json, os, sys, tempfile, time
sys.path.insert(0, os.getcwd())
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
started = time.monotonic()
import keras, numpy as np, tensorflow as tf
from grader import reference_model
from grader.config import GRADE as P
tf.config.experimental.enable_op_determinism()
imported = time.monotonic()
with np.load(sys.argv[2]) as archive:
    data = dict(archive)
make_model = reference_model.builder(keras)
x_train, x_val = data["x_train"], data["x_val"]
scaled = lambda x: x.astype(np.float32) / np.float32(255.0)
runs = [(x_train, x_val, P.batch_size, P.learning_rate, P.optimizer),          # Part 1, raw
        (scaled(x_train), scaled(x_val), P.batch_size, P.learning_rate, P.optimizer)]
runs += [(scaled(x_train), scaled(x_val), b, P.learning_rate, P.optimizer) for b in P.batch_sizes]
runs += [(scaled(x_train), scaled(x_val), P.batch_size, lr, P.optimizer) for lr in P.learning_rates]
runs += [(scaled(x_train), scaled(x_val), P.batch_size, P.learning_rate, o) for o in P.optimizers]
logs = sys.argv[1] == "tensorboard"
with tempfile.TemporaryDirectory() as folder:
    fit_started = time.monotonic()
    for index, (xt, xv, batch_size, learning_rate, optimizer) in enumerate(runs):
        keras.utils.set_random_seed(P.seed)
        model = make_model(10, optimizer=optimizer, learning_rate=learning_rate,
                           input_dim=784, input_scale=None)
        callbacks = [keras.callbacks.TensorBoard(os.path.join(folder, str(index)),
                                                 histogram_freq=1)] if logs else []
        model.fit(xt, data["y_train"], batch_size=batch_size, epochs=P.epochs,
                  validation_data=(xv, data["y_val"]), callbacks=callbacks, verbose=0)
    done = time.monotonic()
print(json.dumps({"import_s": imported - started, "train_s": done - fit_started, "runs": len(runs)}))
'''


SAVE_DATA = r'''
import os, sys
sys.path.insert(0, os.getcwd())
import numpy as np
from grader import engine
from grader.config import GRADE
np.savez(sys.argv[1], **engine.load_data(GRADE)[0])
'''


def bare_training(root, logs, cpus=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_DETERMINISTIC_OPS": "1",
           "TF_ENABLE_ONEDNN_OPTS": "0"}  # as the grader's worker runs
    with tempfile.TemporaryDirectory() as folder:
        data_path = os.path.join(folder, "data.npz")
        subprocess.run([sys.executable, "-c", SAVE_DATA, data_path], cwd=root, check=True)
        figures = measure([sys.executable, "-c", BARE_TRAINING, "tensorboard" if logs else "none",
                           data_path], cwd=root, env=env, cpus=cpus)
    report = [line for line in figures["output"].splitlines() if line.startswith('{"import_s"')]
    figures.update(json.loads(report[-1]))
    return figures


def row(label, figures, extra=""):
    return (f"| {label} | {figures['wall_s']:.1f} | {figures['cpu_s']:.1f} | "
            f"{figures['peak_rss_mb']:.0f} | {figures['peak_pss_mb']:.0f} | "
            f"{figures['peak_anon_mb']:.0f} | {figures['processes']} | {extra} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=HERE, help="checkout to measure")
    parser.add_argument("--repeat", type=int, default=1, help="grades per setting (best is kept)")
    parser.add_argument("--skip-single-core", action="store_true")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    all_cpus = sorted(os.sched_getaffinity(0))
    settings = [("all cores", None)] + ([] if args.skip_single_core else [("1 core", {all_cpus[0]})])
    lines = [f"Grading `solutions/` (grade profile) with `{root}` on {len(all_cpus)} CPU(s), "
             f"load average {os.getloadavg()[0]:.2f} at start.", "",
             "| run | wall s | CPU s (all processes) | peak RSS MB (sum) | peak PSS MB (sum) "
             "| peak anonymous MB (sum) | processes | notes |", "|---|---|---|---|---|---|---|---|"]
    for label, cpus in settings:
        with tempfile.TemporaryDirectory() as folder:
            grades = [grade_once(root, Path(folder) / "results.json", cpus) for _ in range(args.repeat)]
        best = min(grades, key=lambda g: g["wall_s"])
        bare_logged = bare_training(root, True, cpus)
        bare_plain = bare_training(root, False, cpus)
        lines.append(row(f"grade, {label}", best, f"score {best['score']}"))
        lines.append(row(f"bare training + TensorBoard, {label}", bare_logged,
                         f"{bare_logged['runs']} runs: {bare_logged['train_s']:.1f} s fitting, "
                         f"{bare_logged['import_s']:.1f} s importing TF"))
        lines.append(row(f"bare training, no logs, {label}", bare_plain,
                         f"{bare_plain['train_s']:.1f} s fitting"))
        lines.append(f"| grade / bare ratio, {label} | {best['wall_s'] / bare_logged['wall_s']:.2f}x "
                     f"(vs. process with logs), {best['wall_s'] / bare_plain['wall_s']:.2f}x (vs. no logs) "
                     "| | | | | | |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
