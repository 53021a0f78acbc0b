"""Part 4: the learning-rate sweep (``run_learning_rate_experiment``)."""

from grader import probes
from grader.parts import Part, Sweep


def step_learning_rate_experiment(ctx):
    p = ctx.profile
    return probes.run_experiment(
        ctx, "learning_rate_experiment", "experiments", "run_learning_rate_experiment",
        "learning_rates", p.learning_rates, ctx.normalized("train"), ctx.normalized("val"),
        batch_size=p.batch_size, optimizer=p.optimizer)


PART = Part(
    title="learning rate",
    graded_modules=("training", "experiments"),
    needed_modules=("architecture",),
    steps=(step_learning_rate_experiment,),
    experiments={"learning_rate_experiment": Sweep(
        setting="learning_rate", settings="learning_rates", label="learning rate {:g}",
        metrics="learning_rate")},
    reference_builder=True,
)
