"""Correct-but-different solutions of Part 10 (``search.py``)."""

from variants.corpus import Variant

HYPERMODEL = ("    hypermodel = functools.partial(build_tunable_model, build_fn=build_fn, "
              "n_classes=n_classes,\n"
              "                                   learning_rates=learning_rates, "
              "hidden_units=hidden_units)\n")
RESULTS = ("    finished = [trial for trial in tuner.oracle.trials.values() "
           "if trial.score is not None]\n") + """\
    best = tuner.oracle.get_best_trials(1)[0]
    return {"trials": [trial_record(trial) for trial in finished], "best": trial_record(best)}
"""
CHOICES = """    learning_rate = hp.Choice("learning_rate", list(learning_rates))
    units = hp.Choice("hidden_units", list(hidden_units))
"""

VARIANTS = (
    # A keras_tuner.HyperModel subclass instead of a function (and a lambda-free build).
    Variant("search_hypermodel_subclass",
            "the hypermodel is a keras_tuner.HyperModel subclass holding build_fn and the space",
            (("search.py", HYPERMODEL,
              """    class TunableModel(keras_tuner.HyperModel):
        def build(self, hp):
            return build_tunable_model(hp, build_fn=build_fn, n_classes=n_classes,
                                       learning_rates=learning_rates, hidden_units=hidden_units)

    hypermodel = TunableModel(name="mlp_search")
"""),)),
    # Results read through the tuner's ranking: every trial from get_best_trials (sorted
    # by score, best first), the best's values from get_best_hyperparameters.
    Variant("search_results_from_the_ranking",
            "trials from oracle.get_best_trials(n) (best first), the best from "
            "tuner.get_best_hyperparameters()",
            (("search.py", RESULTS,
              """    ranked = tuner.oracle.get_best_trials(num_trials=len(tuner.oracle.trials))
    trials = [{"hyperparameters": dict(trial.hyperparameters.values),
               "val_accuracy": trial.score} for trial in ranked]
    best_values = tuner.get_best_hyperparameters(num_trials=1)[0].values
    best = next(trial for trial in trials if trial["hyperparameters"] == best_values)
    return {"trials": trials, "best": best}
"""),)),
    # The space declared in another order, each list sorted: the grid's order and the
    # seeded random draws change with it, and are judged on the space as declared.
    Variant("search_space_sorted_units_first",
            "hp.Choice('hidden_units', ...) declared first, both value lists sorted",
            (("search.py", CHOICES,
              """    units = hp.Choice("hidden_units", sorted(hidden_units))
    learning_rate = hp.Choice("learning_rate", sorted(learning_rates))
"""),)),
)
