"""Multiple-choice questions, for any part: a module-level answer ``NAME = "b"`` with its
choices in ``NAME_CHOICES`` (a dict of letter -> text) in the student's module.

* trusted side, before the part runs: ``questions(test_source)`` - the answer names the
  part's test file asks for (``Part(inputs=questions)``), so the grader, not the
  submission, decides which answers must be there;
* in the sandbox: ``record_answers(module, asked)`` - the asked answers, plus every answer
  with a ``_CHOICES`` dict in the module (so a public format check sees them all);
* trusted side, after: ``every_question`` - the record check that holds the record to
  every asked answer (``Part(record_checks={step: every_question})``);
* in test files: ``choice(step, "NAME")`` - the answer as a letter, or a failed check that
  says what was found; ``check_choice(step, "NAME", right, hint)`` - one question's test.
"""

import re

from grader.checks import check, check_step, shown

LETTERS = ("a", "b", "c", "d")
#: Most answers one module may hold (a bound on what the probe records).
MAX_ANSWERS = 100
_ASKED = re.compile(r"\b(?:_answer|choice|check_choice)\(\s*\w+\s*,\s*[\"']([A-Z][A-Z0-9_]*)[\"']")


def questions(test_source):
    """``{"questions": [...]}``: the answer names a test file reads, in order of mention."""
    return {"questions": list(dict.fromkeys(_ASKED.findall(test_source)))}


def record_answers(module, asked):
    """The step value: ``{"answers": {name: the string, or how the value prints}}``."""
    from grader.probes import value_record
    names = list(asked)[:MAX_ANSWERS]
    names += sorted(name for name in vars(module) if name.isupper() and
                    isinstance(vars(module).get(name + "_CHOICES"), dict) and name not in names)
    answers = {}
    for name in names[:MAX_ANSWERS]:
        value = getattr(module, name, "<missing>")
        answers[name] = value[:200] if isinstance(value, str) else value_record(value)
    return {"answers": answers}


def every_question(value, arrays, inputs):
    """Record check: every answer the test file asks for is in the record."""
    asked = inputs.get("questions", [])
    answers = value.get("answers") if isinstance(value, dict) else None
    if not isinstance(answers, dict) or not set(asked) <= set(answers):
        return f"the answers {', '.join(asked)}"
    return None


def choice(step, question):
    """The answer to ``question`` as a lower-case letter; fails naming what was found."""
    value = step.value["answers"][question]
    check(isinstance(value, str) and value.strip().lower() in LETTERS,
          f"{question} to be one of {LETTERS}", shown(value),
          'set it to one letter, as a string: e.g. "b"')
    return value.strip().lower()


def check_choice(step, question, right, hint):
    """One question's test: the step ran, the answer is a letter, and it is ``right``."""
    check_step(step)
    check(choice(step, question) == right, "the right choice", "another choice", hint)
