"""Grading a whole class: a folder of submissions into a gradebook, in parallel, resumably.

    python -m grader grade-all SUBMISSIONS [--gradebook gradebook.csv] [--jobs N]
                               [--scheduler tcp://host:8786] [--profile grade|check]

* **Every submission gets a row**, whatever happens: a grade that raises, a grading
  process that dies or hangs, a worker that could not start: the row says "could not
  grade" and why, and the others go on. ``results/<name>.json`` (Gradescope's format) is
  written for each submission too.
* **Parallel on one machine**: ``--jobs`` persistent grading processes (default: the
  CPUs this process may use, its cgroup's CPU quota included, and no more than memory
  allows), each pinned to its own CPUs, each grading one submission at a time with the
  single grade's sandbox and limits, TensorFlow imported once per process
  (``grader.gradebook_pool``, ``grader.gradebook_zygote``). Each process has its own
  sandbox uid; between two grades every process and scratch file of that uid is removed,
  and each part sees empty /tmp, /var/tmp and /dev/shm of its own.
* **On a Dask cluster**: ``--scheduler tcp://host:8786`` sends each submission (its bytes)
  to the cluster; each Dask worker grades in its own persistent grading process.
* **Resumable**: every grade is kept in the store (``grader.gradebook_store``) under the
  submission's content hash and the grader's fingerprint; a rerun grades only what is
  new or changed, and Ctrl-C loses only the grades in flight.
* **Reports**: ``gradebook.csv`` (one row per submission), ``<stem>-lms.csv`` (one row per
  student id, for an LMS import) and the class report (``grader.classreport``).
"""

import base64
import csv
import datetime
import json
import os
import re
import select
import sys
import tempfile
import time
import traceback

from grader import results
from grader.gradebook_store import Store, content_hash, grader_fingerprint  # noqa: F401

COULD_NOT_GRADE = "could not grade (not a problem with the student's code)"
#: Memory one concurrent grade needs (worker, a part, the grading process), for --jobs.
MEMORY_PER_GRADE_BYTES = int(1.5 * 2**30)
#: Gradescope's export: a YAML file at the top of the export, and one JSON per submission.
GRADESCOPE_EXPORT_METADATA = "submission_metadata.yml"
GRADESCOPE_METADATA = "submission_metadata.json"


# ----------------------------------------------------------------------------- submissions

def submissions_in(folder):
    """``[(name, path)]``: the sub-folders and .zip files of ``folder``, sorted by name.

    A zip's name is its file name without ``.zip``; when that is also the name of a folder
    (or another zip differing only by case of the suffix), the full file name is used.
    """
    entries = []
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if entry.startswith("."):
            continue
        if os.path.isdir(path):
            entries.append((entry, path))
        elif entry.lower().endswith(".zip") and os.path.isfile(path):
            entries.append((entry[:-4], path))
    counts = {}
    for name, _ in entries:
        counts[name] = counts.get(name, 0) + 1
    return [(os.path.basename(path) if counts[name] > 1 and not os.path.isdir(path) else name, path)
            for name, path in entries]


def _gradescope_export_ids(folder):
    """``{submission folder name: [student ids]}`` from a Gradescope export's YAML."""
    path = os.path.join(folder, GRADESCOPE_EXPORT_METADATA)
    if not os.path.isfile(path):
        return {}
    try:
        import yaml
        with open(path, encoding="utf-8") as handle:
            table = yaml.safe_load(handle) or {}
    except Exception:  # noqa: BLE001 - an unreadable export falls back to names
        return {}
    found = {}
    for key, entry in table.items() if isinstance(table, dict) else ():
        submitters = entry.get(":submitters") or entry.get("submitters") or [] \
            if isinstance(entry, dict) else []
        ids = [_person_id(person) for person in submitters if isinstance(person, dict)]
        if any(ids):
            found[str(key)] = [i for i in ids if i]
    return found


def _person_id(person):
    for key in ("sid", ":sid", "student_id", "email", ":email", "id", ":id", "name", ":name"):
        value = person.get(key)
        if value not in (None, ""):
            return str(value)
    return None


def _metadata_ids(path):
    """Student ids from Gradescope's submission_metadata.json inside a submission."""
    candidates = []
    if os.path.isdir(path):
        candidates = [os.path.join(path, GRADESCOPE_METADATA)]
        candidates += [os.path.join(path, d, GRADESCOPE_METADATA) for d in sorted(os.listdir(path))
                       if os.path.isdir(os.path.join(path, d))]
    for candidate in candidates:
        try:
            if os.path.islink(candidate) or os.path.getsize(candidate) > 2**20:
                continue
            with open(candidate, encoding="utf-8") as handle:
                document = json.load(handle)
        except (OSError, ValueError):
            continue
        users = document.get("users") if isinstance(document, dict) else None
        ids = [_person_id(user) for user in users or [] if isinstance(user, dict)]
        if any(ids):
            return [i for i in ids if i]
    return []


def student_ids(name, path, *, export_ids=None, pattern=None):
    """The student ids a submission counts for: Gradescope's metadata (the export's YAML,
    else a ``submission_metadata.json`` in the submission), else the submission's name,
    or the ``id`` group (else the whole match) of ``pattern`` in it."""
    ids = (export_ids or {}).get(name) or _metadata_ids(path)
    if ids:
        return ids
    if pattern:
        match = re.search(pattern, name)
        if match:
            return [match.groupdict().get("id") or match.group(0)]
    return [name]


# -------------------------------------------------------------------------------- grading

def grading_options(profile="grade", *, seed=None, include_hidden=None, parts=None):
    """The options every grade of a run uses (they are part of the fingerprint)."""
    if include_hidden is None:
        include_hidden = profile == "grade"
    return {"profile": profile, "seed": seed, "include_hidden": bool(include_hidden),
            "parts": sorted(parts) if parts else None}


def make_task(name, path, options, fingerprint, *, content_sha256=None, with_payload=False):
    """What a grading process needs to grade one submission."""
    task = {"name": name, "path": os.path.abspath(path), "options": options,
            "fingerprint": fingerprint,
            "content_sha256": content_sha256 or content_hash(path)}
    if with_payload:
        from grader.gradebook_pool import pack_payload
        payload, kind = pack_payload(path)
        task["payload"], task["payload_kind"] = base64.b64encode(payload).decode(), kind
    return task


def _profile(options):
    from grader.config import PROFILES
    profile = PROFILES[options["profile"]]
    return profile.with_seed(options["seed"]) if options.get("seed") is not None else profile


def grade_one(task, path):
    """Grade the submission at ``path`` for ``task`` in this process: its record."""
    from grader import engine
    options = task["options"]
    started = time.monotonic()
    try:
        report = engine.grade(path, profile=_profile(options),
                              include_hidden=options["include_hidden"],
                              parts=options.get("parts"))
    except Exception as error:  # noqa: BLE001 - one submission must not lose the gradebook
        traceback.print_exc()
        return failure_record(task, f"{type(error).__name__}: {error}", time.monotonic() - started)
    return record_from_report(task, report)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _first_line(text, limit=300):
    return (results.clean_text(text).splitlines() or [""])[0][:limit]


def record_from_report(task, report):
    """A stored record of one grade: scores by part and test, the results document."""
    document = results.to_gradescope(report)
    base = {"name": task["name"], "content_sha256": task["content_sha256"],
            "fingerprint": task["fingerprint"], "options": task["options"],
            "seconds": round(float(report.seconds), 2), "graded_at": _now(),
            "worker": f"{os.uname().nodename}:{os.getpid()}", "document": document}
    if report.infrastructure_failure:
        return dict(base, status="could not grade", score=0.0, max_score=None, parts={}, tests=[],
                    problem=_first_line(f"{COULD_NOT_GRADE}: {report.infrastructure_failure}"))
    parts, tests = {}, []
    for result in report.results:
        score, max_score = parts.get(result.file, (0.0, 0.0))
        parts[result.file] = (round(score + result.score, 4),
                              round(max_score + result.max_score, 4))
        tests.append({"id": result.name.split(" ", 1)[0], "name": result.name, "part": result.file,
                      "score": result.score, "max_score": result.max_score,
                      "passed": result.passed, "hidden": result.hidden,
                      "message": "" if result.passed else _first_line(result.message, 500)})
    outcomes = [o for o in report.part_outcomes.values() if o is not None]
    base["cpu_seconds"] = round(sum(o.cpu_seconds or 0 for o in outcomes), 1)
    base["sandbox_uids"] = sorted({outcome.isolation.get("uid") for outcome in
                                   report.part_outcomes.values()
                                   if outcome is not None and isinstance(outcome.isolation, dict)
                                   and outcome.isolation.get("uid") is not None})
    return dict(base, status="graded", score=report.score, max_score=report.max_score,
                parts={k: list(v) for k, v in parts.items()}, tests=tests, problem=None,
                notes=[_first_line(note) for note in report.notes][:10])


def failure_record(task, why, seconds):
    """The record of a submission that could not be graded (the grader's failure)."""
    return {"name": task["name"], "content_sha256": task.get("content_sha256", ""),
            "fingerprint": task.get("fingerprint", ""), "options": task.get("options"),
            "status": "could not grade", "score": 0.0, "max_score": None, "parts": {}, "tests": [],
            "problem": _first_line(f"{COULD_NOT_GRADE}: {why}"), "seconds": round(seconds, 2),
            "graded_at": _now(), "worker": f"{os.uname().nodename}:{os.getpid()}",
            "document": results.failure_document(_first_line(why, 500))}


# ------------------------------------------------------------------------------ schedulers

def default_jobs():
    """Grades at once on this machine: usable CPUs (affinity and cgroup quota), capped by
    the memory the machine or its container leaves (``MEMORY_PER_GRADE_BYTES`` each)."""
    from grader.sandbox import cgroup
    from grader.sandbox.worker import usable_cpus
    jobs = usable_cpus()
    try:
        memory, _ = cgroup.container_limits()
    except Exception:  # noqa: BLE001
        memory = None
    if memory is None:
        try:
            memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError):
            memory = None
    if memory:
        jobs = min(jobs, max(1, memory // MEMORY_PER_GRADE_BYTES))
    return max(1, jobs)


def _cpu_sets(jobs):
    """Disjoint CPU sets, one per grading process, when there are enough CPUs; else None."""
    cpus = sorted(os.sched_getaffinity(0))
    if jobs > len(cpus):
        return [None] * jobs
    size = len(cpus) // jobs
    return [set(cpus[i * size:(i + 1) * size]) for i in range(jobs)]


def _run_inline(tasks, on_record):
    """Grade in this process, one after another (``--jobs 0``: debugging, tests)."""
    from grader.gradebook_pool import grade_task
    for task in tasks:
        on_record(grade_task(task))


def _run_local(tasks, jobs, on_record):
    """Grade with ``jobs`` persistent grading processes on this machine."""
    from grader import engine
    from grader.gradebook_pool import GRADE_MARGIN_SECONDS, GradingProcess
    budget = engine.total_seconds() + GRADE_MARGIN_SECONDS
    pending = list(tasks)
    cpu_sets = _cpu_sets(min(jobs, max(1, len(pending))))
    processes = []
    try:
        for cpus in cpu_sets:  # all start at once; each then imports the engine
            processes.append(_start(lambda cpus: GradingProcess(cpus=cpus, wait=False), cpus))
        for index, process in enumerate(processes):
            if process is not None:
                processes[index] = _start(lambda _: process.wait_ready(), None)
        while pending or any(p.task for p in processes if p):
            for index, process in enumerate(processes):
                if pending and (process is None or process.task is None):
                    task = pending.pop(0)
                    if process is None:
                        process = processes[index] = _start(GradingProcess, cpu_sets[index])
                    if process is None:
                        on_record(failure_record(task, "a grading process could not start", 0.0))
                        continue
                    try:
                        process.send(task)
                    except OSError:  # it died between two grades: a new one takes the task
                        process.stop(grace=0.0)
                        processes[index] = None
                        pending.insert(0, task)
            busy = [p for p in processes if p is not None and p.task is not None]
            if not busy:
                continue
            readable, _, _ = select.select(busy, [], [], 1.0)
            for process in busy:
                task = process.task
                if process in readable:
                    seconds = time.monotonic() - process.started
                    record = process.receive()
                    if record is None:
                        record = failure_record(task, "the grading process died while grading",
                                                seconds)
                        process.stop(grace=0.0)
                elif process.overdue(budget):
                    record = failure_record(task, "the grading process stopped answering "
                                            f"(more than {budget:.0f} s)", budget)
                    process.task = None
                    process.stop(grace=5.0)
                else:
                    continue
                if not process.alive():
                    process.stop(grace=0.0)
                    processes[processes.index(process)] = None
                on_record(record)
    finally:
        for process in processes:
            if process is not None:
                process.stop()


def _start(factory, cpus):
    try:
        return factory(cpus)
    except Exception:  # noqa: BLE001 - reported as rows that could not be graded
        traceback.print_exc()
        return None


def _run_dask(tasks, scheduler, on_record):
    """Grade on a Dask cluster: one task per submission, with its bytes."""
    from distributed import Client, as_completed
    from grader.gradebook_pool import dask_grade
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        futures = {client.submit(dask_grade, task, pure=False,
                                 key=f"grade-{task['content_sha256'][:16]}-{i}"): task
                   for i, task in enumerate(tasks)}
        for future in as_completed(futures):
            task = futures[future]
            try:
                record = future.result()
            except Exception as error:  # noqa: BLE001 - a lost worker, a failed task
                record = failure_record(task, f"the Dask task failed: {type(error).__name__}: "
                                        f"{error}", 0.0)
            on_record(record)
    finally:
        if client is not scheduler:
            client.close()


# ----------------------------------------------------------------------------------- a run

class Run:
    """What ``grade_all`` did: rows in submission order, and what was graded now."""

    def __init__(self, rows, records, graded, reused, paths, interrupted=False):
        self.rows, self.records, self.graded, self.reused = rows, records, graded, reused
        self.paths, self.interrupted = paths, interrupted

    @property
    def failed(self):
        return [row["submission"] for row in self.rows if row["status"] != "graded"]


def output_paths(gradebook_path, results_dir=None, report_dir=None, store_dir=None):
    gradebook_path = os.path.abspath(gradebook_path)
    stem = os.path.splitext(gradebook_path)[0]
    return {"gradebook": gradebook_path, "lms": f"{stem}-lms.csv",
            "results": os.path.abspath(results_dir or f"{stem}-results"),
            "report": os.path.abspath(report_dir or f"{stem}-report"),
            "store": os.path.abspath(store_dir or f"{stem}-store")}


def grade_all(folder, gradebook_path, *, profile="grade", seed=None, include_hidden=None,
              parts=None, jobs=None, scheduler=None, results_dir=None, report_dir=None,
              store_dir=None, regrade=False, progress=True, student_id_pattern=None):
    """Grade every submission in ``folder``; write the gradebook, the LMS export, the
    results files and the class report. Returns a ``Run``.

    ``jobs``: grading processes on this machine (None: ``default_jobs()``; 0: grade in
    this process). ``scheduler``: a Dask scheduler address (or ``distributed.Client``);
    the grades then run on its workers. ``regrade``: ignore the store.
    """
    from grader import classreport
    paths = output_paths(gradebook_path, results_dir, report_dir, store_dir)
    options = grading_options(profile, seed=seed, include_hidden=include_hidden, parts=parts)
    fingerprint = grader_fingerprint(options)
    store = Store(paths["store"])
    submissions = submissions_in(folder)
    export_ids = _gradescope_export_ids(folder)
    records, tasks = {}, []
    for name, path in submissions:
        try:
            sha = content_hash(path)
        except OSError as error:
            records[name] = failure_record({"name": name, "options": options,
                                            "fingerprint": fingerprint},
                                           f"the submission could not be read: {error}", 0.0)
            continue
        found = None if regrade else store.get(sha, fingerprint)
        if found is not None:
            records[name] = dict(found, name=name)
        else:
            tasks.append(make_task(name, path, options, fingerprint, content_sha256=sha,
                                   with_payload=scheduler is not None))
    reused = len(records)
    order = [name for name, _ in submissions]
    ids = {name: student_ids(name, path, export_ids=export_ids, pattern=student_id_pattern)
           for name, path in submissions}
    bar = _progress_bar(len(submissions), reused, enabled=progress)
    os.makedirs(paths["results"], exist_ok=True)

    def write_outputs(final=False):
        rows = [gradebook_row(name, records.get(name), ids[name]) for name in order]
        write_csv(rows, paths["gradebook"])
        if final:
            write_csv(lms_rows(rows), paths["lms"])
        return rows

    def on_record(record):
        name = record["name"]
        records[name] = record
        store.put(record)
        results.write_json(record["document"], os.path.join(paths["results"], _file_name(name)))
        write_outputs()
        if bar is not None:
            shown = (f"{record['score']:g}/{record['max_score']:g}"
                     if record["status"] == "graded" else "could not grade")
            bar.set_postfix_str(f"{name}: {shown}", refresh=False)
            bar.update(1)

    for name in order:  # submissions reused from the store still get their results file
        if name in records:
            results.write_json(records[name]["document"],
                               os.path.join(paths["results"], _file_name(name)))
    interrupted = False
    try:
        if tasks:
            if scheduler is not None:
                _run_dask(tasks, scheduler, on_record)
            elif jobs == 0:
                _run_inline(tasks, on_record)
            else:
                _run_local(tasks, jobs or default_jobs(), on_record)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
        rows = write_outputs(final=True)
    classreport.write_report([records[n] for n in order if n in records], rows, paths["report"])
    run = Run(rows, records, graded=len(tasks), reused=reused, paths=paths,
              interrupted=interrupted)
    if interrupted:
        raise KeyboardInterrupt(run)
    return run


def _progress_bar(total, initial, *, enabled):
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=total, initial=initial, unit="submission", desc="grading",
                file=sys.stderr, dynamic_ncols=True, smoothing=0.1)


def _file_name(name):
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".")
    return f"{safe or 'submission'}.json"


def gradebook_row(name, record, ids):
    """One gradebook row (no timings: the same grades give the same file anywhere)."""
    row = {"submission": name, "student_id": ";".join(ids)}
    if record is None:
        return dict(row, status="not graded", score="", max_score="",
                    problem="not graded yet (the run was interrupted): run the command again")
    row.update(status=record["status"], score=record["score"],
               max_score="" if record["max_score"] is None else record["max_score"])
    for part, (score, _) in record.get("parts", {}).items():
        row[part] = score
    row["failed_tests"] = " ".join(t["id"] for t in record.get("tests", []) if not t["passed"])
    row["problem"] = record.get("problem") or ""
    row["content_sha256"] = record.get("content_sha256", "")
    return row


def lms_rows(rows):
    """One row per student id: ``student_id, submission, total, max_total`` and one column
    per part, ``<part> (max)``. A student in a group submission gets the group's grade;
    a student id found in two submissions is flagged in ``note``."""
    part_max = {}
    for row in rows:
        for key in row:
            if key not in FIXED_COLUMNS:
                part_max.setdefault(key, None)
    seen, out = {}, []
    for row in rows:
        for student in [s for s in str(row["student_id"]).split(";") if s]:
            entry = {"student_id": student, "submission": row["submission"],
                     "total": row["score"] if row["status"] == "graded" else "",
                     "max_total": row["max_score"]}
            for part in part_max:
                entry[part] = row.get(part, "")
            entry["note"] = ("" if row["status"] == "graded"
                             else row["status"] + ": " + row["problem"])
            seen.setdefault(student, []).append(entry)
            out.append(entry)
    for student, entries in seen.items():
        if len(entries) > 1:
            for entry in entries:
                entry["note"] = (entry["note"] + "; " if entry["note"] else "") + \
                    f"student id in {len(entries)} submissions"
    return out


FIXED_COLUMNS = ("submission", "student_id", "status", "score", "max_score", "failed_tests",
                 "problem", "content_sha256")


def write_csv(rows, path):
    """Write ``rows`` (columns: every key, in order of first appearance) atomically."""
    columns = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".gradebook-")
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, fieldnames=columns or ["submission"])
            writer.writeheader()
            writer.writerows([{key: results.clean_text(value) if isinstance(value, str) else value
                               for key, value in row.items()} for row in rows])
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
