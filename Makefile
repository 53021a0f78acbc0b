# One target per workflow; each is a thin layer over `python -m grader` / `python -m builder`.
# `make demo` and `make test` work as the first command on a fresh clone (they install first).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
RESULTS ?= results.json

.PHONY: install demo test test-fast dist autograder grade gradebook check calibrate bench clean

install: $(STAMP)

$(STAMP): requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $(STAMP)

## demo: build dist, then grade the reference solution and the untouched skeleton
demo: dist
	@echo "== Grading the reference solution (solutions/) =="
	$(PY) -m grader grade solutions --results dist/demo-reference-results.json
	@echo
	@echo "== Grading the untouched student skeleton (assignment/) =="
	$(PY) -m grader grade assignment --results dist/demo-skeleton-results.json

## test: the package's own test suite (includes slow end-to-end grading), on TEST_JOBS
## processes (pytest-xdist; each grade is mostly one busy core: 2 fit a 2-core machine)
TEST_JOBS ?= 2
test: install
	$(PY) -m pytest -q -n $(TEST_JOBS) --dist load --durations=25 tests

## test-fast: everything except the tests marked slow
test-fast: install
	$(PY) -m pytest -q -n $(TEST_JOBS) --dist load -m "not slow" tests

## dist: check the calibration, grade the reference (full marks) and the skeleton (zero),
## then regenerate assignment/, dist/student.zip and dist/autograder/autograder.zip
dist: install
	$(PY) -m grader release

## autograder: the Gradescope zip (built by dist)
autograder: dist
	@echo "dist/autograder/autograder.zip"

## grade: make grade SUBMISSION=path/or.zip RESULTS=results.json
grade: install
	@test -n "$(SUBMISSION)" || { echo "usage: make grade SUBMISSION=folder-or.zip [RESULTS=results.json]"; exit 2; }
	$(PY) -m grader grade "$(SUBMISSION)" --results "$(RESULTS)"

## gradebook: make gradebook SUBMISSIONS=folder [GRADEBOOK=gradebook.csv] [JOBS=n] [SCHEDULER=tcp://host:8786]
## (parallel on every usable core, resumable; also GRADEBOOK's -lms.csv, -results/, -report/, -store/)
gradebook: install
	@test -n "$(SUBMISSIONS)" || { echo "usage: make gradebook SUBMISSIONS=folder-of-submissions [JOBS=n] [SCHEDULER=tcp://host:8786]"; exit 2; }
	$(PY) -m grader grade-all "$(SUBMISSIONS)" --gradebook "$(or $(GRADEBOOK),gradebook.csv)" \
		$(if $(JOBS),--jobs $(JOBS)) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

## check: the student's self-check (public tests) on SUBMISSION (default: assignment/); PART=7 or PART=7,backprop: those parts only
check: install
	$(PY) -m grader check "$(or $(SUBMISSION),assignment)" $(if $(PART),--part $(PART))

## calibrate: re-measure the stale parts of the reference over 5 seeds -> grader/calibration.json
calibrate: install
	$(PY) -m grader calibrate

## bench: grade-time and memory figures for README
bench: install
	$(PY) bench/grade_bench.py

clean:
	rm -rf dist .pytest_cache
