"""grade-all: a whole class, in parallel grading processes or on a Dask cluster, resumable,
with the class report and the LMS export (issue 10).

The class is real: the reference, the skeleton, two mutants, a zip with a corrupt member
and a variant, graded with hidden tests on Parts 2 and 6 (no training: seconds each once
TensorFlow is imported); one test grades every part. Expected scores always come from
grade reports, never from literal totals.
"""

import csv
import html
import json
import os
import shutil
import struct
import zipfile
from pathlib import Path

import pytest

from conftest import ASSIGNMENT, SOLUTIONS, make_submission
from grader import classreport, gradebook, gradebook_store
from mutants.corpus import MUTANTS
from variants.corpus import VARIANTS

PARTS = ["architecture", "concepts"]
OPTIONS = dict(profile="grade", parts=PARTS, progress=False)


def applicable(items, module):
    """The corpus entries that change only ``module`` and still apply to solutions/."""
    return [item for item in items
            if {m for m, _, _ in item.replacements} == {module}
            and all(old in (SOLUTIONS / m).read_text() for m, old, _ in item.replacements)]


#: One mutant of each graded part's module, and one variant (Part 2 or Part 6).
CLASS_MUTANTS = [applicable(MUTANTS, "architecture.py")[0], applicable(MUTANTS, "concepts.py")[0]]
CLASS_VARIANT = (applicable(VARIANTS, "architecture.py") + applicable(VARIANTS, "concepts.py"))[0]
MUTANT_NAMES = tuple(m.name for m in CLASS_MUTANTS)
VARIANT_NAME = CLASS_VARIANT.name


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def corrupt_zip(path, member, base=SOLUTIONS):
    """A zip of ``base``'s modules in a folder, one byte of ``member``'s data flipped."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as bundle:
        for module in sorted(base.glob("*.py")):
            bundle.write(module, f"work/{module.name}")
    with zipfile.ZipFile(path) as bundle:
        info = bundle.getinfo(f"work/{member}")
    data = bytearray(path.read_bytes())
    names = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    data[info.header_offset + 30 + sum(names) + 10] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """Six submissions: reference, skeleton, two mutants, a corrupt zip, a variant."""
    folder = tmp_path_factory.mktemp("class") / "submissions"
    folder.mkdir()
    shutil.copytree(SOLUTIONS, folder / "reference", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ASSIGNMENT, folder / "skeleton",
                    ignore=shutil.ignore_patterns("__pycache__", "tests"))
    for mutant in CLASS_MUTANTS:
        make_submission(folder, mutant.replacements, name=f"mutant_{mutant.name}")
    make_submission(folder, CLASS_VARIANT.replacements, name=f"variant_{VARIANT_NAME}")
    corrupt_zip(folder / "corrupt.zip", "concepts.py")
    return folder


@pytest.fixture(scope="module")
def local_run(classroom, tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    run = gradebook.grade_all(classroom, out / "gradebook.csv", jobs=2, **OPTIONS)
    return run, out


@pytest.mark.slow
def test_six_submissions_in_parallel_match_single_grades(classroom, local_run):
    """Six rows, a results file each, the same scores as grading each one on its own, and
    two grading processes with two different sandbox uids."""
    from grader import engine
    from grader.config import GRADE
    run, out = local_run
    rows = {row["submission"]: row for row in read_csv(out / "gradebook.csv")}
    assert sorted(rows) == sorted(name for name, _ in gradebook.submissions_in(classroom))
    assert len(rows) == 6 and run.graded == 6 and not run.failed
    singles = ("corrupt", f"mutant_{MUTANT_NAMES[0]}", f"variant_{VARIANT_NAME}")
    for name, path in gradebook.submissions_in(classroom):
        if name not in singles:  # the reference, skeleton, other mutant: checked below
            continue
        single = engine.grade(path, profile=GRADE, parts=PARTS)
        row = rows[name]
        assert row["status"] == "graded", row
        assert float(row["score"]) == single.score and float(row["max_score"]) == single.max_score
        failed = " ".join(r.name.split(" ", 1)[0] for r in single.results if not r.passed)
        assert row["failed_tests"] == failed, (name, row["failed_tests"], failed)
        document = json.loads((out / "gradebook-results" / f"{name}.json").read_text())
        assert document["score"] == single.score
    # What the class is made of shows in the grades: the reference passes everything, the
    # skeleton nothing, each mutant fails exactly its mistake's tests.
    assert rows["reference"]["score"] == rows["reference"]["max_score"]
    assert float(rows["skeleton"]["score"]) == 0.0
    assert rows[f"variant_{VARIANT_NAME}"]["score"] == rows["reference"]["score"]
    for mutant in CLASS_MUTANTS:
        assert rows[f"mutant_{mutant.name}"]["failed_tests"].split() == list(mutant.fails)
    concepts_tests = [t["id"] for t in run.records["reference"]["tests"]
                      if "concepts" in t["part"]]
    assert concepts_tests and rows["corrupt"]["failed_tests"].split() == concepts_tests
    corrupt = json.loads((out / "gradebook-results" / "corrupt.json").read_text())
    assert "corrupt" in corrupt["output"] and "CRC" in corrupt["output"]
    # Two grading processes, each with a sandbox uid of its own.
    workers = {record["worker"]: set(record["sandbox_uids"]) for record in run.records.values()}
    assert len(workers) == 2, workers
    first, second = workers.values()
    assert first and second and not first & second and 0 not in first | second


@pytest.mark.slow
def test_report_and_lms_export(classroom, local_run):
    run, out = local_run
    report = out / "gradebook-report"
    for chart in ("score_histogram.png", "pass_rate.png", "grading_time.png"):
        assert (report / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (report / "index.html").read_text()
    tests = read_csv(report / "tests.csv")
    rows = read_csv(out / "gradebook.csv")
    # The test a mutant fails, besides the skeleton and the corrupt zip.
    chosen = next(t for t in tests if t["test"] in CLASS_MUTANTS[1].fails)
    failing = [r["submission"] for r in rows if chosen["test"] in r["failed_tests"].split()]
    assert len(failing) >= 2
    assert int(chosen["graded"]) - int(chosen["passed"]) == len(failing)
    assert chosen["failure_1"] and int(chosen["count_1"]) >= 1
    assert html.escape(chosen["failure_1"][:60]) in page or chosen["failure_1"][:60] in page
    failures = read_csv(report / "failures.csv")
    assert sum(int(f["count"]) for f in failures if f["test"] == chosen["test"]) == len(failing)
    lms = read_csv(out / "gradebook-lms.csv")
    assert [r["student_id"] for r in lms] == [r["submission"] for r in rows]
    part_columns = [c for c in lms[0] if c.startswith("Part ")]
    assert len(part_columns) == len(PARTS)
    for entry in lms:
        assert float(entry["total"]) == pytest.approx(sum(float(entry[c]) for c in part_columns))


@pytest.mark.slow
def test_a_rerun_grades_nothing(classroom, local_run):
    run, out = local_run
    before = (out / "gradebook.csv").read_text()
    again = gradebook.grade_all(classroom, out / "gradebook.csv", jobs=2, **OPTIONS)
    assert again.graded == 0 and again.reused == 6
    assert (out / "gradebook.csv").read_text() == before
    # A resubmission is graded again, and only it.
    changed = classroom.parent / "changed"
    shutil.copytree(classroom, changed)
    with open(changed / "skeleton" / "concepts.py", "a") as handle:
        handle.write("\n# resubmitted\n")
    shutil.copytree(out / "gradebook-store", out / "changed-store")
    third = gradebook.grade_all(changed, out / "changed.csv", store_dir=out / "changed-store",
                                jobs=1, **OPTIONS)
    assert third.graded == 1 and third.reused == 5


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_gradebook(classroom, local_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    _, out = local_run
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        run = gradebook.grade_all(classroom, tmp_path / "gradebook.csv",
                                  scheduler=cluster.scheduler_address, **OPTIONS)
    assert run.graded == 6 and not run.failed
    assert all(record["worker"].startswith("dask:") for record in run.records.values())
    assert (tmp_path / "gradebook.csv").read_text() == (out / "gradebook.csv").read_text()


WRITER = '''
import glob as _glob, os as _os
for _folder in ("/tmp", "/var/tmp", "/dev/shm"):
    with open(_os.path.join(_folder, "gradebook-note-{token}"), "w") as _note:
        _note.write("answers of the writer")
    _os.chmod(_os.path.join(_folder, "gradebook-note-{token}"), 0o666)
'''
WRITER_CHECK = '''    notes = _glob.glob("/*/gradebook-note-{token}") + _glob.glob("/*/*/gradebook-note-{token}")
    if len(notes) < 3:
        return -1  # the writer could not write its notes: then this test proves nothing
    return math.ceil(n_samples / batch_size)'''
READER_CHECK = '''    import glob
    found = glob.glob("/*/gradebook-note-*") + glob.glob("/*/*/gradebook-note-*")
    if found:
        raise RuntimeError("LEAKED " + " ".join(found) + ": " + open(found[0]).read())
    return math.ceil(n_samples / batch_size)'''
ITERATIONS = "    return math.ceil(n_samples / batch_size)"


@pytest.mark.skipif(os.geteuid() != 0, reason="sandbox uids need root")
def test_a_note_left_in_tmp_is_not_read_by_the_next_submission(tmp_path):
    """The writer leaves world-readable notes in /tmp, /var/tmp and /dev/shm; the reader,
    graded next in the same grading process (same sandbox uid), finds none; nothing is
    left on the machine afterwards."""
    token = os.urandom(6).hex()
    folder = tmp_path / "submissions"
    folder.mkdir()
    writer = make_submission(folder, [("concepts.py", ITERATIONS,
                                       WRITER_CHECK.format(token=token))], name="a_writer")
    concepts = writer / "concepts.py"
    concepts.write_text(WRITER.format(token=token) + concepts.read_text())
    make_submission(folder, [("concepts.py", ITERATIONS, READER_CHECK)], name="b_reader")
    run = gradebook.grade_all(folder, tmp_path / "gradebook.csv", jobs=1, profile="check",
                              parts=["concepts"], include_hidden=False, progress=False)
    rows = {row["submission"]: row for row in run.rows}
    assert rows["a_writer"]["status"] == "graded" and rows["a_writer"]["failed_tests"] == "", rows
    assert rows["b_reader"]["failed_tests"] == "", run.records["b_reader"]["tests"]
    assert rows["a_writer"]["score"] == rows["a_writer"]["max_score"]
    assert len({r["worker"] for r in run.records.values()}) == 1  # same process, same uid
    for scratch in ("/tmp", "/var/tmp", "/dev/shm"):
        assert not os.path.exists(os.path.join(scratch, f"gradebook-note-{token}"))


@pytest.mark.slow
def test_real_profile_through_the_pool(tmp_path):
    """The grading profile, every part, hidden tests: the reference gets every point in a
    grading process (its worker forked from the zygote), as in a single grade."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copytree(SOLUTIONS, folder / "reference", ignore=shutil.ignore_patterns("__pycache__"))
    run = gradebook.grade_all(folder, tmp_path / "gradebook.csv", jobs=1, progress=False)
    reference = run.records["reference"]
    assert reference["status"] == "graded", reference.get("problem")
    assert reference["score"] == reference["max_score"] > 0
    assert any(test["hidden"] for test in reference["tests"])
    assert len(reference["parts"]) == len({test["part"] for test in reference["tests"]}) > 2
    row = run.rows[0]
    assert row["failed_tests"] == "" and float(row["score"]) == reference["max_score"]


# ------------------------------------------------------------------ fast: no training at all

def fake_report(score_by_test):
    from grader.engine import GradeReport, TestResult
    return GradeReport(results=[TestResult(name=f"{tid} a check", file=f"Part {tid[0]}",
                                           score=score, max_score=2.0, hidden=False,
                                           message="passed" if score else f"found {tid}.5, bad")
                                for tid, score in score_by_test.items()],
                       notes=[], part_outcomes={}, seconds=0.1)


def test_a_grader_exception_is_a_row_and_the_rest_go_on(tmp_path, monkeypatch):
    from grader import engine
    folder = tmp_path / "submissions"
    for name in ("alice", "bob", "carol"):
        (folder / name).mkdir(parents=True)
        (folder / name / "concepts.py").write_text(f"# {name}\n")

    def grade(path, **kwargs):
        if path.endswith("bob"):
            raise zipfile.BadZipFile("Bad CRC-32 for file 'concepts.py'")
        return fake_report({"1.1": 2.0, "1.2": 0.0})

    monkeypatch.setattr(engine, "grade", grade)
    run = gradebook.grade_all(folder, tmp_path / "gradebook.csv", jobs=0, progress=False)
    rows = {row["submission"]: row for row in read_csv(tmp_path / "gradebook.csv")}
    assert sorted(rows) == ["alice", "bob", "carol"]
    assert rows["bob"]["status"] == "could not grade" and "Bad CRC-32" in rows["bob"]["problem"]
    assert rows["alice"]["status"] == "graded" and rows["alice"]["failed_tests"] == "1.2"
    assert json.loads((tmp_path / "gradebook-results" / "bob.json").read_text())["score"] == 0
    html = (tmp_path / "gradebook-report" / "index.html").read_text()
    assert "Bad CRC-32" in html and "Could not be graded" in html
    # The failed grade is not kept: a rerun tries it again, and only it.
    again = gradebook.grade_all(folder, tmp_path / "gradebook.csv", jobs=0, progress=False)
    assert again.graded == 1 and again.reused == 2 and again.failed == ["bob"]
    assert run.failed == ["bob"]


def test_content_hash_and_fingerprint(tmp_path):
    a = make_submission(tmp_path, name="a")
    b = make_submission(tmp_path, name="b")
    assert gradebook_store.content_hash(a) == gradebook_store.content_hash(b)
    (b / "concepts.py").write_text((b / "concepts.py").read_text() + "\n")
    assert gradebook_store.content_hash(a) != gradebook_store.content_hash(b)
    (a / "link.py").symlink_to("/etc/passwd")
    assert gradebook_store.content_hash(a) != gradebook_store.content_hash(b)

    package = tmp_path / "grader"
    shutil.copytree(Path(gradebook.__file__).parent, package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    options = gradebook.grading_options("grade")
    print_ = gradebook_store.grader_fingerprint
    first = print_(options, package_dir=package, environ={})
    assert print_(options, package_dir=package, environ={}) == first
    (package / "gradebook.py").write_text("# the gradebook itself does not change a grade\n")
    assert print_(options, package_dir=package, environ={}) == first
    assert print_(gradebook.grading_options("grade", seed=3), package_dir=package,
                  environ={}) != first
    assert print_(options, package_dir=package, environ={"TRAIN_GRADER_MEMORY_MB": "512"}) != first
    calibration = package / "calibration.json"
    calibration.write_text(calibration.read_text() + " ")
    assert print_(options, package_dir=package, environ={}) != first


def test_student_ids_from_names_and_gradescope_metadata(tmp_path):
    folder = tmp_path / "export"
    (folder / "submission_101").mkdir(parents=True)
    (folder / "submission_102").mkdir()
    (folder / "jdoe_late").mkdir()
    (folder / "submission_metadata.yml").write_text(
        "submission_101:\n  :submitters:\n  - :name: Ann\n    :sid: s-ann\n  - :name: Ben\n"
        "    :sid: s-ben\n")
    (folder / "submission_102" / "submission_metadata.json").write_text(
        json.dumps({"users": [{"name": "Cy", "email": "cy@example.edu", "id": 7}]}))
    export = gradebook._gradescope_export_ids(folder)
    ids = {name: gradebook.student_ids(name, path, export_ids=export, pattern=r"^(?P<id>[^_]+)_")
           for name, path in gradebook.submissions_in(folder)}
    assert ids == {"submission_101": ["s-ann", "s-ben"], "submission_102": ["cy@example.edu"],
                   "jdoe_late": ["jdoe"]}
    rows = [{"submission": "submission_101", "student_id": "s-ann;s-ben", "status": "graded",
             "score": 7.0, "max_score": 10.0, "Part 1": 3.0, "Part 2": 4.0, "failed_tests": "",
             "problem": "", "content_sha256": "x"},
            {"submission": "again", "student_id": "s-ann", "status": "could not grade",
             "score": 0.0, "max_score": "", "failed_tests": "", "problem": "worker died",
             "content_sha256": "y"}]
    lms = gradebook.lms_rows(rows)
    assert [(r["student_id"], r["total"], r["Part 1"]) for r in lms] == [
        ("s-ann", 7.0, 3.0), ("s-ben", 7.0, 3.0), ("s-ann", "", "")]
    assert "2 submissions" in lms[0]["note"] and "worker died" in lms[2]["note"]


def test_class_report_counts_failures_per_test(tmp_path):
    reports = [fake_report({"1.1": 2.0, "1.10": 0.0}), fake_report({"1.1": 0.0, "1.10": 0.0}),
               fake_report({"1.1": 2.0, "1.10": 2.0})]
    records = [gradebook.record_from_report({"name": f"s{i}", "content_sha256": "x",
                                             "fingerprint": "y", "options": {}}, report)
               for i, report in enumerate(reports)]
    records.append(gradebook.failure_record({"name": "broken"}, "the worker died", 3.0))
    rows = [gradebook.gradebook_row(r["name"], r, [r["name"]]) for r in records]
    index = classreport.write_report(records, rows, tmp_path / "report")
    statistics = {s["id"]: s for s in classreport.test_statistics(records)}
    assert statistics["1.10"]["graded"] == 3 and statistics["1.10"]["passed"] == 1
    assert statistics["1.10"]["failures"][0][1] == 2  # "found 1.10.5" twice, numbers grouped
    html = Path(index).read_text()
    assert "67%" in html or "(2/3)" in html
    assert "the worker died" in html
    tests = read_csv(tmp_path / "report" / "tests.csv")
    assert [t["test"] for t in tests] == ["1.1", "1.10"] and tests[1]["count_1"] == "2"


def test_payload_round_trip_and_no_write_through_links(tmp_path):
    """A folder sent to a Dask worker arrives as it was (links as links), and a tar that
    tries to write through a symbolic link writes nothing outside its folder."""
    import io
    import tarfile
    from grader import gradebook_pool
    folder = make_submission(tmp_path, name="sent")
    (folder / "logs").mkdir()
    (folder / "logs" / "run.txt").write_text("log")
    (folder / "elsewhere.py").symlink_to("/etc/hostname")
    payload, kind = gradebook_pool.pack_payload(str(folder))
    arrived = gradebook_pool.unpack_payload(payload, kind, str(tmp_path / "worker"), "sent")
    assert gradebook_store.content_hash(arrived) == gradebook_store.content_hash(folder)
    outside = tmp_path / "outside"
    outside.mkdir()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as bundle:
        link = tarfile.TarInfo("./escape")
        link.type, link.linkname = tarfile.SYMTYPE, str(outside)
        bundle.addfile(link)
        data = b"written through the link"
        member = tarfile.TarInfo("./escape/planted.py")
        member.size = len(data)
        bundle.addfile(member, io.BytesIO(data))
    gradebook_pool.unpack_payload(buffer.getvalue(), "tar", str(tmp_path / "worker2"), "evil")
    assert list(outside.iterdir()) == []
