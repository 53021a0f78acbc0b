"""Replaying claimed training runs in a process that never ran student code.

The worker answers a ``{"replay": JOBS_DIR, "wall_seconds": ...}`` request by forking a
child of its own (TensorFlow already imported, no student module ever loaded) that runs
``replay_jobs``. Each job says how to build and fit one model exactly as the recording
builder did inside a part (``grader.probes.RecordingBuilder``): the same reference
builder, the same seed right before the build and right before the fit, the same fit
arguments and the same arrays (the grader's own, by name, or a copy the trusted process
checked and wrote into JOBS_DIR). The child writes ``<job id>.npz`` (final weights) and
``<job id>.json`` (the history) into JOBS_DIR/out; the trusted process compares them with
what the part claimed (``grader.replay``).
"""

import json
import os
import signal
import time

import numpy as np

_POLL_SECONDS = 0.05


def known_arrays(data):
    """The arrays experiments are given, by the names the recording builder reports."""
    scale = np.float32(255.0)
    return {"x_train_raw": data["x_train"], "x_val_raw": data["x_val"],
            "x_train_normalized": data["x_train"].astype(np.float32) / scale,
            "x_val_normalized": data["x_val"].astype(np.float32) / scale,
            "y_train": data["y_train"], "y_val": data["y_val"]}


def _array(reference, known, jobs_dir):
    if reference is None:
        return None
    if reference["kind"] == "grader":
        return known[reference["name"]]
    return np.load(os.path.join(jobs_dir, reference["file"]), allow_pickle=False)


def replay_jobs(jobs_dir, data):
    """Train every job of ``jobs_dir/jobs.json``; write weights and histories to ``out/``.

    Several processes may run this on one folder at once: each takes the next job no one
    has claimed (``out/<job id>.claim``, created exclusively), in the listing's order."""
    from grader import probes, reference_model
    keras = probes.keras
    with open(os.path.join(jobs_dir, "jobs.json")) as handle:
        jobs = json.load(handle)
    out = os.path.join(jobs_dir, "out")
    os.makedirs(out, exist_ok=True)
    known = known_arrays(data)
    make_model = reference_model.builder(keras)
    for job in jobs:
        if not _claim(out, job["id"]):
            continue
        try:
            weights, values = _replay_job(job, make_model, keras, known, jobs_dir)
        except Exception as error:  # settings that do not train: that run is not verified
            _write_record(out, job["id"], {"error": f"{type(error).__name__}: {error}"[:300]})
            continue
        np.savez(os.path.join(out, job["id"] + ".npz"),
                 **{f"w{i}": w for i, w in enumerate(weights)})
        _write_record(out, job["id"], {"history": values})


def _claim(out, job_id):
    """True for the one process that claims the job first."""
    try:
        os.close(os.open(os.path.join(out, job_id + ".claim"), os.O_CREAT | os.O_EXCL | os.O_WRONLY,
                         0o600))
    except FileExistsError:
        return False
    return True


def _write_record(out, job_id, record):
    """``<job id>.json``, whole or not at all (the child may be killed at its wall limit:
    a job without its record counts as not replayed, never as half a history)."""
    path = os.path.join(out, job_id + ".json")
    with open(path + ".part", "w") as handle:
        json.dump(record, handle)
    os.replace(path + ".part", path)


def _replay_job(job, make_model, keras, known, jobs_dir):
    """Build and fit one job's model; its final weights and the last fit's history."""
    from grader import reference_model
    model_args = dict(job["model"])
    model_args["learning_rate"] = reference_model.learning_rate_value(
        keras, model_args["learning_rate"])
    keras.utils.set_random_seed(job["seed"])
    model = make_model(**model_args)
    for fit in job["fits"]:  # every fit the model had, in order, as the part did them
        arrays = {role: _array(fit["arrays"].get(role), known, jobs_dir)
                  for role in ("x", "y", "x_val", "y_val")}
        validation = None if arrays["x_val"] is None else (arrays["x_val"], arrays["y_val"])
        callbacks = [keras.callbacks.EarlyStopping(**fit["early_stopping"])] \
            if fit.get("early_stopping") else None
        keras.utils.set_random_seed(job["seed"])
        history = model.fit(arrays["x"], arrays["y"], batch_size=fit["batch_size"],
                            epochs=fit["epochs"], verbose=0,
                            validation_split=fit["validation_split"],
                            validation_data=validation, shuffle=fit["shuffle"],
                            callbacks=callbacks)
    values = {name: [float(v) for v in series] for name, series in history.history.items()}
    return model.get_weights(), values


def run_replay(request, data, control_fds, processes=1):
    """Fork ``processes`` clean children that replay the jobs between them (each takes the
    next unclaimed job); wait for them within the wall limit.

    A small model trains on about one core whatever TensorFlow's thread count, so on two
    cores two children halve the replay's time (``worker.replay_processes`` decides how many
    the container's CPUs and memory allow)."""
    started = time.monotonic()
    wall = float(request.get("wall_seconds") or 300.0)
    pids = []
    for _ in range(max(1, int(processes))):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                for fd in control_fds:
                    os.close(fd)
                replay_jobs(request["replay"], data)
            except BaseException:  # noqa: BLE001 - reported through the exit code and the log
                import traceback
                traceback.print_exc()
                code = 70
            os._exit(code)
        pids.append(pid)
    statuses = {}
    while True:
        for pid in pids:
            if pid not in statuses:
                done, raw = os.waitpid(pid, os.WNOHANG)
                if done:
                    statuses[pid] = raw
        if len(statuses) == len(pids):
            break
        if time.monotonic() - started > wall:
            # The grade's time for replays is spent: the jobs done so far keep their
            # records, the others are not replayed (their runs are unverified, nothing
            # else is lost; see grader.replay.run_jobs).
            for pid in pids:
                if pid not in statuses:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
            return {"replayed": True, "timed_out": True, "problem": None,
                    "wall_seconds": round(time.monotonic() - started, 3)}
        time.sleep(_POLL_SECONDS)
    failed = [raw for raw in statuses.values()
              if not (os.WIFEXITED(raw) and os.WEXITSTATUS(raw) == 0)]
    return {"replayed": not failed,
            "problem": f"a replay process ended with status {failed[0]}" if failed else None,
            "processes": len(pids), "wall_seconds": round(time.monotonic() - started, 3)}
