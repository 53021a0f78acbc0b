"""Part 3: the batch-size sweep (``run_batch_size_experiment``)."""

from grader import probes
from grader.parts import Part, Sweep


def step_batch_size_experiment(ctx):
    p = ctx.profile
    return probes.run_experiment(
        ctx, "batch_size_experiment", "experiments", "run_batch_size_experiment", "batch_sizes",
        p.batch_sizes, ctx.normalized("train"), ctx.normalized("val"),
        optimizer=p.optimizer, learning_rate=p.learning_rate)


PART = Part(
    title="batch size",
    graded_modules=("training", "experiments"),
    needed_modules=("architecture",),
    steps=(step_batch_size_experiment,),
    experiments={"batch_size_experiment": Sweep(
        setting="batch_size", settings="batch_sizes", label="batch size {}",
        metrics="batch_size")},
    reference_builder=True,
)
