"""Part 2: the required architecture (``build_model``), described from the models it
builds with several arguments."""

import numpy as np

from grader import probes
from grader.parts import Part
from grader.probes import StepError, student_traceback

#: Optimizer names build_model must accept.
OPTIMIZER_NAMES = ("sgd", "adam", "rmsprop", "adagrad", "nadam")


def describe_model(model):
    """Structure, loss, metrics and optimizer of a compiled model, as plain data.

    ``dense`` lists the model's Dense layers as ``{"units", "activation", "written"}``
    whatever way each activation was given: ``Dense(250, activation="sigmoid")``,
    ``Dense(250, activation=keras.activations.sigmoid)``, or ``Dense(250)`` followed by
    ``Activation("sigmoid")`` (or an activation layer such as ``Softmax()``) describe the
    same layer. ``written`` is the layer as the student wrote it, for messages.
    """
    if not isinstance(model, probes.keras.Model):
        raise StepError(f"build_model returned {type(model).__name__}, expected a keras Model")
    layers = []
    for layer in model.layers:
        if isinstance(layer, probes.keras.layers.InputLayer):
            continue
        config = layer.get_config()
        activation = config.get("activation")
        layers.append({
            "class_name": type(layer).__name__,
            "units": config.get("units"),
            "activation": activation if isinstance(activation, str) or activation is None
            else str(activation),
            "scale": _number_or_none(config.get("scale")),
            "offset": _number_or_none(config.get("offset")),
        })
    optimizer = getattr(model, "optimizer", None)
    compile_config = model.get_compile_config() if getattr(model, "compiled", False) else None
    return {
        "layers": layers,
        "dense": _dense_pairs(model),
        "input_shape": _shape_list(getattr(model, "input_shape", None)),
        "output_shape": _shape_list(getattr(model, "output_shape", None)),
        "compiled": compile_config is not None,
        "loss": _describe_loss(getattr(model, "loss", None)),
        "metrics": _describe_metrics((compile_config or {}).get("metrics")),
        "optimizer": None if optimizer is None else {
            "class_name": type(optimizer).__name__,
            "learning_rate": float(np.asarray(optimizer.learning_rate)),
        },
    }


#: Layers that only apply an activation, by class name -> the activation they apply.
ACTIVATION_LAYERS = {"Softmax": "softmax", "ReLU": "relu", "LeakyReLU": "leaky_relu",
                     "ELU": "elu", "PReLU": "prelu"}


def _flat_layers(model):
    """The model's layers in order, with the layers of nested models in their place."""
    for layer in model.layers:
        if isinstance(layer, probes.keras.Model):
            yield from _flat_layers(layer)
        elif not isinstance(layer, probes.keras.layers.InputLayer):
            yield layer


def _activation_name(activation):
    """'sigmoid' for "sigmoid", keras.activations.sigmoid, tf.nn.sigmoid, ...; 'linear' for
    none."""
    if activation is None:
        return "linear"
    name = activation if isinstance(activation, str) else \
        getattr(activation, "__name__", None) or type(activation).__name__
    name = str(name).lower()
    return name[:-3] if name.endswith("_v2") else name


def _dense_pairs(model):
    """The Dense layers as (units, activation) pairs, each with the activation layers that
    directly follow it folded in (see ``describe_model``)."""
    pairs = []
    for layer in _flat_layers(model):
        kind = type(layer).__name__
        if kind == "Dense":
            units = getattr(layer, "units", None)
            units = int(units) if isinstance(units, (int, np.integer)) else None
            activation = _activation_name(getattr(layer, "activation", None))
            written = f"Dense({units})" if activation == "linear" else \
                f"Dense({units}, activation={activation!r})"
            pairs.append({"units": units, "activation": activation, "written": written})
        elif pairs and (kind == "Activation" or kind in ACTIVATION_LAYERS):
            activation = ACTIVATION_LAYERS.get(kind) or \
                _activation_name(getattr(layer, "activation", None))
            last = pairs[-1]
            last["written"] += f" + Activation({activation!r})" if kind == "Activation" \
                else f" + {kind}()"
            if last["activation"] == "linear":
                last["activation"] = activation
            elif activation != "linear":
                last["activation"] = f"{last['activation']}, then {activation}"
    return pairs


def _number_or_none(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _shape_list(shape):
    if shape is None or not isinstance(shape, tuple):
        return None
    return [None if d is None else int(d) for d in shape]


def _describe_loss(loss):
    if loss is None:
        return None
    if isinstance(loss, str):
        return {"name": loss, "from_logits": False}
    config = loss.get_config() if hasattr(loss, "get_config") else {}
    return {"name": getattr(loss, "__name__", None) or type(loss).__name__,
            "from_logits": bool(config.get("from_logits", False))}


def _describe_metrics(metrics):
    names = []
    for metric in metrics or []:
        if isinstance(metric, str):
            names.append(metric)
        elif isinstance(metric, dict):
            names.append(str(metric.get("class_name") or metric.get("config", {}).get("name")))
        else:
            names.append(str(getattr(metric, "name", type(metric).__name__)))
    return names


def step_build_default(ctx):
    return describe_model(ctx.module("architecture").build_model(10)), {}


def step_build_custom(ctx):
    return describe_model(ctx.module("architecture").build_model(
        7, optimizer="sgd", learning_rate=0.05)), {}


def step_build_scaled(ctx):
    return describe_model(ctx.module("architecture").build_model(10, input_scale=1 / 255)), {}


def _optimizers_built(ctx, names):
    """``{name: {"ok", "optimizer" or "error"}}`` for ``build_model(optimizer=name)``."""
    build_model = ctx.module("architecture").build_model
    found = {}
    for name in names:
        try:
            optimizer = describe_model(build_model(10, optimizer=name, learning_rate=0.02))["optimizer"]
            found[name] = {"ok": True, "optimizer": optimizer}
        except Exception as error:  # one bad name must not hide the others
            found[name] = {"ok": False, "error": student_traceback(error, ctx.submission_dir)}
    return found


def step_build_optimizers(ctx):
    return _optimizers_built(ctx, OPTIMIZER_NAMES), {}


#: Optimizer names as students may write them; build_model takes names in any case.
MIXED_CASE_OPTIMIZER_NAMES = ("SGD", "Adam", "RMSprop", "AdaGrad", "NADAM")


def step_build_mixed_case(ctx):
    return _optimizers_built(ctx, MIXED_CASE_OPTIMIZER_NAMES), {}


def step_build_unknown_optimizer(ctx):
    try:
        model = ctx.module("architecture").build_model(10, optimizer="adamw_typo")
    except Exception as error:
        return {"raised": type(error).__name__, "is_value_error": isinstance(error, ValueError),
                "message": str(error)[:500]}, {}
    optimizer = getattr(model, "optimizer", None)
    return {"raised": None, "optimizer": type(optimizer).__name__ if optimizer else None}, {}



def _every_optimizer(value, arrays, inputs):
    if not isinstance(value, dict) or set(value) != set(OPTIMIZER_NAMES):
        return f"a result for each optimizer {', '.join(OPTIMIZER_NAMES)}"
    return None


PART = Part(
    title="architecture",
    graded_modules=("architecture",),
    steps=(step_build_default, step_build_custom, step_build_optimizers,
           step_build_mixed_case, step_build_unknown_optimizer, step_build_scaled),
    record_checks={"build_optimizers": _every_optimizer},
)
