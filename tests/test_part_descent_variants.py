"""Part 8 (gradient descent variants, ``descent.py``) without the sandbox: its probe steps
run on the reference module in this process and its test cases judge the records, so the
trusted-side checks are exercised over many seeds in a few seconds (the mutants and
variants grade whole submissions through the real grader)."""

import importlib.util
import inspect

import numpy as np
import pytest
from otter.test_files.exception_test import ExceptionTestFile

from conftest import SOLUTIONS
from grader import artifacts, engine, parts
from grader.parts import descent_variants as part

CASES = ExceptionTestFile.from_file(str(parts.load("descent_variants").test_file)).test_cases


class _Profile:
    def __init__(self, seed):
        self.seed = seed


class _Context:
    def __init__(self, module, seed):
        self.profile = _Profile(seed)
        self._module = module
        self.inputs = engine.part_inputs(parts.load("descent_variants"))  # as the engine's

    def module(self, name):
        assert name == "descent"
        return self._module


def _reference():
    spec = importlib.util.spec_from_file_location("descent_reference", SOLUTIONS / "descent.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _judge(module, seed):
    """{test name: message or None} of every case on ``module``'s records at ``seed``."""
    context = _Context(module, seed)
    steps = {}
    for step in part.PART.steps:
        name = step.__name__[len("step_"):]
        value, arrays = step(context)
        steps[name] = artifacts.Step(name, True, "", value=value, arrays=arrays)
    outcome = {}
    for case in CASES:
        function = case.body.test_func
        arguments = {p: steps.get(p, context.profile) for p in inspect.signature(function).parameters}
        try:
            function(**arguments)
            outcome[case.name.split()[0]] = None
        except AssertionError as error:
            outcome[case.name.split()[0]] = str(error)
    return outcome


def test_reference_earns_every_test_on_20_unseen_seeds():
    """Does the reference pass every case at seeds 101-120 (other data, other shuffles)?"""
    module = _reference()
    failed = {seed: {k: v for k, v in _judge(module, seed).items() if v}
              for seed in range(101, 121)}
    assert {seed: f for seed, f in failed.items() if f} == {}


def test_minimum_and_noise_are_measured_on_the_grader_side():
    """Do the checks read only what the functions returned: a path that stops short of the
    minimum fails 8.5, flat losses fail 8.6 and a shifted loss list fails 8.4?"""
    module = _reference()
    real = module.run_gradient_descent

    def short(x, y, batch_size, **kwargs):
        kwargs["epochs"] = 1 if batch_size == len(x) else kwargs["epochs"]
        return real(x, y, batch_size, **kwargs)
    module.run_gradient_descent = short
    found = _judge(module, 0)
    assert found["8.5"] and "least-squares minimum" in found["8.5"]

    def smooth(x, y, batch_size, **kwargs):
        path, losses = real(x, y, batch_size, **kwargs)
        return path, np.sort(losses)[::-1]
    module.run_gradient_descent = smooth
    found = _judge(module, 0)
    assert found["8.6"] and found["8.4"]
    assert found["8.1"] is None and found["8.2"] is None and found["8.5"] is None


def test_skeleton_fails_every_test_without_crashing():
    """Does the untouched skeleton raise its stub in every step (no point)?"""
    spec = importlib.util.spec_from_file_location("descent_skeleton",
                                                  SOLUTIONS.parent / "assignment" / "descent.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for step in part.PART.steps[:2]:
        with pytest.raises(NotImplementedError):
            step(_Context(module, 0))
    assert module.NOISY_PATH_REASON is None and module.WHY_MINI_BATCH is None
