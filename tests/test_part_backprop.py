"""Part 7 (backprop): the reference agrees with TensorFlow's autodiff, the grader's own
gradients are right (against TensorFlow too), the trusted side never imports TensorFlow, and
the static check catches the ways a file can reach an autodiff library."""

import ast
import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, SOLUTIONS
from grader import artifacts, engine
from grader.parts import backprop as part

TEST_FILE = REPO / "grader" / "parts" / "backprop" / "tests.py"


def _reference():
    spec = importlib.util.spec_from_file_location("reference_backprop", SOLUTIONS / "backprop.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tape_gradients(x, y, params):
    """Gradients of the mean sparse cross-entropy of the network, by tf.GradientTape."""
    import tensorflow as tf
    variables = {name: tf.Variable(value) for name, value in params.items()}
    with tf.GradientTape() as tape:
        hidden = tf.sigmoid(tf.constant(x) @ variables["W1"] + variables["b1"])
        probabilities = tf.nn.softmax(hidden @ variables["W2"] + variables["b2"])
        loss = tf.reduce_mean(
            tf.keras.losses.sparse_categorical_crossentropy(tf.constant(y), probabilities))
    return float(loss), {name: grad.numpy() for name, grad in tape.gradient(loss, variables).items()}


def _case(test_id):
    cases = engine.ExceptionTestFile.from_file(str(TEST_FILE)).test_cases
    return next(case for case in cases if case.name.split()[0] == test_id)


@pytest.mark.parametrize("index", range(len(part.CASES)))
def test_reference_matches_gradient_tape(index):
    """Do the reference's loss and gradients on every grader case, the 784 -> 250 -> 10
    network included, equal tf.GradientTape's to a relative error of 1e-7 (float64)?"""
    reference = _reference()
    x, y, params = part.make_case(index)
    loss, tape = _tape_gradients(x, y, params)
    _, probabilities = reference.forward(x, params)
    assert reference.sparse_cross_entropy(probabilities, y) == pytest.approx(loss, rel=1e-9)
    grads = reference.backward(x, y, params)
    tests = _load_tests()
    for name in part.PARAMETER_NAMES:
        assert grads[name].dtype == np.float64
        assert tests.relative_error(grads[name], tape[name]) < 1e-7, name


def _load_tests():
    spec = importlib.util.spec_from_file_location("backprop_tests", TEST_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_grader_gradients_match_gradient_tape():
    """Is the grader's own analytic gradient in 7.9 right? Run 7.9 on tf.GradientTape's
    gradients recorded as the student's: it must pass. Then on gradients with the sigmoid's
    derivative left out (W1, b1 wrong): it must fail with a relative error of 1e-2 or more."""
    arrays, broken = {}, {}
    for index in range(len(part.CASES)):
        x, y, params = part.make_case(index)
        _, tape = _tape_gradients(x, y, params)
        arrays.update({f"{index}_{name}": grad for name, grad in tape.items()})
        broken.update({f"{index}_{name}": grad * (4.0 if name in ("W1", "b1") else 1.0)
                       for name, grad in tape.items()})
    outputs = [{"keys": list(part.PARAMETER_NAMES)} for _ in part.CASES]
    case = _case("7.9")
    step = artifacts.Step("backprop_gradients", True, "", value={"outputs": outputs}, arrays=arrays)
    assert engine.run_case(case, {"backprop_gradients": step}) == (True, "passed")
    step = artifacts.Step("backprop_gradients", True, "", value={"outputs": outputs}, arrays=broken)
    passed, message = engine.run_case(case, {"backprop_gradients": step})
    assert not passed and "sigmoid's derivative" in message and "W1 6.0e-01" in message, message


def test_trusted_side_never_imports_tensorflow():
    """The grading process never imports TensorFlow: does loading this part's declaration and
    test file leave it unimported?"""
    code = ("import sys; from grader import engine; "
            f"engine.ExceptionTestFile.from_file({str(TEST_FILE)!r}); "
            "import grader.parts.backprop; "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    found = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.split()
    assert found == ["False", "False"]
    for path in (TEST_FILE, TEST_FILE.parent / "__init__.py"):
        imported = {alias.name.split(".")[0] for node in ast.walk(ast.parse(path.read_text()))
                    if isinstance(node, ast.Import) for alias in node.names}
        imported |= {(node.module or "").split(".")[0] for node in ast.walk(ast.parse(path.read_text()))
                     if isinstance(node, ast.ImportFrom)}
        assert not imported & {"tensorflow", "keras", "torch", "jax"}, path


GRADIENTS_OK = artifacts.Step("backprop_gradients", True, "", value={"outputs": [{}] * 3})
CLEAN = (SOLUTIONS / "backprop.py").read_text()


@pytest.mark.parametrize("source, says", [
    ("import torch\n", "torch (line 1)"),
    ("import numpy as np\nfrom jax import grad\n", "jax (line 2)"),
    ("import tensorflow.compat.v1 as tf\n", "tensorflow.compat.v1 (line 1)"),
    ("from keras import ops\n", "keras (line 1)"),
    ("def f():\n    import autograd.numpy as anp\n", "autograd.numpy (line 2)"),
    ("m = __import__('torch')\n", "torch (line 1)"),
    ("import sys\ntf = sys.modules['tensorflow']\n", "tensorflow (line 2)"),
    ("import importlib\ntf = importlib.import_module('tensorflow')\n", "tensorflow (line 2)"),
])
def test_static_check_finds_autodiff(source, says):
    """Does 7.5 fail, naming the library and the line, for each way of reaching one?"""
    passed, message = engine.run_case(_case("7.5"), {"sources": {"backprop": source},
                                                     "backprop_gradients": GRADIENTS_OK})
    assert not passed and says in message, message


def test_static_check_passes_numpy_only():
    """Does 7.5 pass the reference (its docstring names TensorFlow, Keras, PyTorch...), and fail
    a submission without backprop.py or with a syntax error, naming the problem?"""
    case = _case("7.5")
    assert engine.run_case(case, {"sources": {"backprop": CLEAN},
                                  "backprop_gradients": GRADIENTS_OK}) == (True, "passed")
    passed, message = engine.run_case(case, {"sources": {}, "backprop_gradients": GRADIENTS_OK})
    assert not passed and "no backprop.py" in message
    passed, message = engine.run_case(case, {"sources": {"backprop": "def f(:\n"},
                                             "backprop_gradients": GRADIENTS_OK})
    assert not passed and "syntax error on line 1" in message


def test_reference_gradient_check_error_is_cs231n_small():
    """Is the reference's relative error against central differences of its own loss about
    1e-7 or less on the check case (CS231n: ~1e-7 right), where the mutants show ~1e-1?"""
    reference, tests = _reference(), _load_tests()
    x, y, params = part.make_case(part.CHECK_CASE)
    grads = reference.backward(x, y, params)
    for name in part.PARAMETER_NAMES:
        numerical = np.zeros_like(params[name])
        for position in np.ndindex(params[name].shape):
            losses = []
            for sign in (1.0, -1.0):
                moved = {k: v.copy() for k, v in params.items()}
                moved[name][position] += sign * part.EPSILON
                losses.append(reference.sparse_cross_entropy(reference.forward(x, moved)[1], y))
            numerical[position] = (losses[0] - losses[1]) / (2 * part.EPSILON)
        assert tests.relative_error(grads[name], numerical) < 1e-6, name
