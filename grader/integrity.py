"""Protecting what the grade trusts and what students must not see.

``TrustedFiles`` fingerprints the grader's own files before any student code runs, so a
submission that rewrites them is detected. ``secret_lines`` and ``quotes_secret`` find
student-visible text that quotes hidden tests, the calibration, grader-only code or the
solutions, so the engine can withhold it.
"""

import hashlib
import inspect
import os

#: Lines of hidden files shorter than this are too generic to count as a leak.
MIN_SECRET_LINE_CHARS = 16


# ------------------------------------------------------------------- trusted files

class TrustedFiles:
    """Fingerprints (and copies) of the files the grade trusts, taken before any student
    code runs: the grader package, its test files, the calibration and the data loaders.

    When the grader runs as root, parts run as another user and cannot change them;
    without root they run as the grader's own user, so ``changed()`` checks them after
    the parts ran. The engine does not write them back (a developer may be editing them
    while a grade runs); it gives the submission no points and says which files changed.
    """

    MAX_BYTES = 32 * 2**20

    def __init__(self, roots):
        self.files = {}
        total = 0
        for root in roots:
            for path in _python_and_data_files(root):
                try:
                    with open(path, "rb") as handle:
                        content = handle.read()
                except OSError:
                    continue
                total += len(content)
                if total > self.MAX_BYTES:
                    return
                self.files[path] = (hashlib.sha256(content).hexdigest(), content)

    def changed(self):
        """Paths whose content differs from (or that vanished since) the fingerprint."""
        changed = []
        for path, (digest, _) in self.files.items():
            try:
                with open(path, "rb") as handle:
                    same = hashlib.sha256(handle.read()).hexdigest() == digest
            except OSError:
                same = False
            if not same or os.path.islink(path):
                changed.append(path)
        return changed


def _python_and_data_files(root):
    if os.path.isfile(root):
        yield os.path.abspath(root)
        return
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".json")):
                yield os.path.abspath(os.path.join(folder, name))


# --------------------------------------------------------------- secret text

def secret_lines(test_files, extra_files=(), public_files=()):
    """Lines of the grader's hidden material, as stripped text: the source of hidden test
    cases, and the content of ``extra_files`` (calibration, grader-only code, solutions),
    minus every line that also occurs in the public part of the test files or in
    ``public_files`` (what students get anyway).
    """
    secret, public = set(), set()
    for test_file in test_files:
        hidden_ranges = []
        for case in test_file.test_cases:
            try:
                lines, start = inspect.getsourcelines(case.body.test_func)
            except (OSError, TypeError):
                continue
            if case.hidden:
                secret.update(meaningful_lines(lines))
                hidden_ranges.append((start, start + len(lines)))
        try:
            with open(test_file.path, encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    if not any(low <= number < high for low, high in hidden_ranges):
                        public.update(meaningful_lines([line]))
        except (OSError, UnicodeDecodeError):
            pass
    for path in extra_files:
        secret.update(meaningful_lines(read_lines(path)))
    for path in public_files:
        public.update(meaningful_lines(read_lines(path)))
    return secret - public


def read_lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(4 * 2**20).splitlines()
    except OSError:
        return []


def meaningful_lines(lines):
    found = set()
    for line in lines:
        text = " ".join(line.split())
        if len(text) >= MIN_SECRET_LINE_CHARS and any(c.isalnum() for c in text):
            found.add(text)
    return found


def quotes_secret(text, secret):
    """True when ``text`` contains a whole line of hidden material (whitespace-insensitive)."""
    if not secret or not text:
        return False
    flat = " ".join(str(text).split())
    return any(line in flat for line in secret)


def submission_files(folder):
    return [os.path.join(folder, name) for name in sorted(os.listdir(folder))
            if name.endswith(".py")] if folder and os.path.isdir(folder) else []


def files_under(folder, suffix=".py"):
    if not os.path.isdir(folder):
        return []
    return [os.path.join(folder, name) for name in sorted(os.listdir(folder)) if name.endswith(suffix)]
