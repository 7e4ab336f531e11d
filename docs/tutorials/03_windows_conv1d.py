# %% [markdown]
# # 3. Sliding windows and 1D convolutions on accelerometer data
#
# A recurrent network is not the only way to read a sequence. The lecture begins with
# two models that have no state at all:
#
# - a **sliding window**: an MLP that sees the last $w$ steps at once, $x_{t-w+1..t}$,
#   flattened into one vector. Applied at every step, it gives class scores
#   that are then averaged over the sequence;
# - a **1D convolution**: the same small filter of width $w$ slid along time. Two
#   causal convolutions in a row see $2w - 1$ steps, and their outputs are mean-pooled.
#
# The data are BasicMotions: a smartwatch worn while standing, walking, running and
# playing badminton, 10 s at 10 Hz of 3-D accelerometer and 3-D gyroscope (100 steps
# by 6 channels), 40 recordings to train on and 40 to test on. In rnnlab this is the task
# [`motions`](../../cli/tasks/), and its `--model` option chooses among the recurrent
# network (`rnn`), the window MLP (`window-mlp`) and the convolution (`conv1d`).
# The Python calls below are what `rnnlab train --task motions --model conv1d` runs
# ([`get_task`](../../api/tasks/#rnnlab.tasks.get_task),
# [`Task.train`](../../api/tasks/#rnnlab.tasks.Task.train),
# [`Task.evaluate`](../../api/tasks/#rnnlab.tasks.Task.evaluate)).
#
# You will see:
#
# - the four activities are visible in any short stretch of the signal. Running shakes
#   the watch hard and standing hardly at all;
# - so after the same very short training (40 batches each), the window models already
#   classify most test recordings. The GRU also learns, but it must carry what it
#   has seen to its last step, and at this budget it lags behind.
#
# The numbers here come from a short run (a few seconds of training per model) and
# change a little with the seed. The benchmark on the [Sequence tasks](../../guide/tasks/)
# page gives each model 30 s: there the windows score 1.00 and the RNNs 0.90 to 0.92.

# %%
# %matplotlib inline
import pathlib
import tempfile

import numpy as np
from matplotlib.figure import Figure

from rnnlab.tasks import get_task

task = get_task("motions")
data = task.load_data(task.config())
train, test = data.split("train"), data.split("test")
print(data.describe(), "| x:", train.x.shape, "(recordings, steps, channels)")
print("classes:", data.class_names)

# %% [markdown]
# ## The signal: one recording of each activity
#
# The accelerometer's three axes (the first three channels) for the first training
# recording of each class.

# %%
fig = Figure(figsize=(10, 4.5))
axes = fig.subplots(2, 2, sharex=True, sharey=True).ravel()
for k, (ax, name) in enumerate(zip(axes, data.class_names, strict=True)):
    row = int(np.flatnonzero(train.y == k)[0])
    ax.plot(train.x[row, :, :3], lw=1)
    ax.set_title(name)
axes[0].legend(["x", "y", "z"], loc="upper right")
for ax in axes[2:]:
    ax.set_xlabel("step (0.1 s)")
fig.tight_layout()
fig

# %% [markdown]
# Even eight steps (0.8 s) of any of these plots tell the activities apart:
# the spread of the values alone separates standing, walking and running. A model whose
# view is eight steps wide therefore loses nothing here.

# %%
spread = {
    name: float(train.x[train.y == k, :, :3].std(axis=1).mean())
    for k, name in enumerate(data.class_names)
}
spread  # the accelerometer's standard deviation within a recording, by class

# %% [markdown]
# ## Three models, the same short budget
#
# Each model trains for 40 batches of 32 recordings, with 16 hidden units (the GRU)
# or a width of 16 (the window models), and a window of 8 steps. Each is then scored on
# the 40 test recordings. The trivial baseline always answers the most frequent class,
# which here gives 0.25.

# %%
runs = pathlib.Path(tempfile.mkdtemp())
budget = dict(steps=40, hidden=16, eval_every=40, log_every=40, seed=0)
models = {"rnn": dict(cell="gru"), "window-mlp": dict(window=8), "conv1d": dict(window=8)}
accuracy = {}
for model, extra in models.items():
    config = task.config(model=model, **budget, **extra)
    task.train(runs / model, config)
    result = task.evaluate(runs / model, "test", figures=False)
    accuracy[model] = result["metrics"]["accuracy"]
chance = result["baseline"]["accuracy"]
accuracy, chance

# %%
fig = Figure(figsize=(5, 3))
ax = fig.subplots()
labels = ["GRU", "window MLP", "conv1d"]
ax.bar(labels, list(accuracy.values()), color=["C0", "C1", "C2"])
ax.axhline(chance, color="k", ls="--", lw=1, label="majority class")
ax.set(ylim=(0, 1.05), ylabel="test accuracy", title="40 batches each, window 8")
ax.legend(loc="lower right")
fig

# %% [markdown]
# The window models come out on top, and the reason is the data rather than
# the models: each activity leaves its mark on every short stretch, so a view of 8 steps
# (the MLP) or 15 steps (two convolutions of width 8) sees everything it needs, and the
# per-window scores averaged over the recording vote for the same class. The GRU has to
# learn to carry the evidence through 100 steps to its last output, which takes more
# training.
#
# The lecture's argument for recurrent networks is about the other case: when
# the answer depends on something further back than the window, a window model cannot
# see it, however long it trains. The task `recall` is built that way (the cue
# lies 31 steps before the question). There, the same benchmark finds the LSTM and
# GRU at 1.00 and all three windows at chance.
# [Tutorial 7](../07_io_patterns/) trains one task of each input/output pattern.

# %%
assert all(a > chance + 0.2 for a in accuracy.values()), accuracy
assert max(accuracy["window-mlp"], accuracy["conv1d"]) >= accuracy["rnn"], accuracy
