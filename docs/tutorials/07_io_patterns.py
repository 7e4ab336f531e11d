# %% [markdown]
# # 7. Input/output patterns
#
# One recurrent cell can serve very different problems. What changes is **which steps
# get an input and which outputs get a loss**. The lecture names the patterns:
#
# | pattern | reads | answers | rnnlab task |
# | --- | --- | --- | --- |
# | many-to-one | a whole sequence | once, at its last step | `vowels`, `motions`, `recall` |
# | synced many-to-many | a sequence | at every step, a label for that step | `primitives`, `activity`, `codetags` |
# | many-to-many (next step) | a sequence | at every step, the next symbol | `reber`, `xor`, `charlm`, `birdsong` |
# | one-to-many | a start | a whole sequence, each output fed back as the next input | `chorales`, `charlm` when it samples |
# | sequence-to-sequence | a sequence (encoder) | another sequence of another length (decoder) | `numbers` |
#
# Every task follows the same contract ([`Task`](../../api/tasks/#rnnlab.tasks.Task)),
# so the same three calls train and score each of them:
# [`get_task`](../../api/tasks/#rnnlab.tasks.get_task),
# [`Task.train`](../../api/tasks/#rnnlab.tasks.Task.train) and
# [`Task.evaluate`](../../api/tasks/#rnnlab.tasks.Task.evaluate).
# On the command line these are `rnnlab train --task NAME` and `rnnlab eval`
# ([the `train` page](../../cli/train/) lists every task's options).
#
# You will see:
#
# - the data of one task of each pattern, with its inputs and the steps that carry a
#   target;
# - three of them (many-to-one, synced and next step) trained for 30 batches each
#   with the same LSTM. All three beat their trivial baseline. This is a short run
#   (seconds per task), so the numbers are far from what these tasks reach with their
#   default budgets.

# %%
# %matplotlib inline
import pathlib
import tempfile

import numpy as np
from matplotlib.figure import Figure

from rnnlab.tasks import get_task

tasks = {name: get_task(name) for name in ("vowels", "primitives", "reber", "numbers")}
{name: task.pattern for name, task in tasks.items()}

# %% [markdown]
# ## What each pattern's data look like
#
# Each `load_data` returns the splits. For the first three tasks every split is a
# [`SeqData`](../../api/tasks/#rnnlab.tasks.SeqData): inputs `x` (sequences, steps,
# features), labels `y` and the valid `lengths`. The shape of `y` is the pattern: one
# label per sequence, or one per step.

# %%
data = {name: tasks[name].load_data(tasks[name].config()) for name in ("vowels", "primitives")}
data["reber"] = tasks["reber"].load_data(tasks["reber"].config())
for name, d in data.items():
    train = d.split("train")
    print(f"{name:>10}: x {train.x.shape}, y {train.y.shape}, lengths {train.lengths[:5]}...")

# %%
fig = Figure(figsize=(11, 6.5))
axes = fig.subplots(2, 3, sharex="col", gridspec_kw={"height_ratios": [3, 1]})
for col, (name, d) in enumerate(data.items()):
    train = d.split("train")
    n = int(train.lengths[0])
    x, y = train.x[0, :n], train.y[0] if train.y.ndim == 1 else train.y[0, :n]
    axes[0, col].imshow(x.T, aspect="auto", cmap="RdBu_r", interpolation="nearest")
    axes[0, col].set(title=f"{name}: {tasks[name].pattern}", ylabel="input feature")
    if train.y.ndim == 1:  # many-to-one: one target, after the last step
        axes[1, col].plot([n - 1], [y], "C3o")
        axes[1, col].set_xlim(-0.5, n - 0.5)
    else:
        axes[1, col].step(np.arange(n), y, "C3", where="mid")
    axes[1, col].set(xlabel="step", ylabel="target")
fig.tight_layout()
fig

# %% [markdown]
# - **vowels** (many-to-one): a speaker says "a"; 12 cepstral coefficients per frame,
#   7 to 29 frames. The one target, the speaker (of 9), counts only after the last
#   frame, so the network must sum up the whole utterance in its state.
# - **primitives** (synced many-to-many): a 2-D pen movement made of four periodic
#   primitives in random order. Every step has a target: which primitive is being
#   drawn now. The answer at step $t$ can use the steps before it.
# - **reber** (next step): strings of the embedded Reber grammar, one-hot. The target at
#   step $t$ is the input at $t+1$. Where the grammar branches, no model can be sure of
#   the next symbol, so the task scores whether the right *set* of symbols gets the
#   largest outputs.
#
# The sequence-to-sequence task pairs two sequences of different lengths. Its split is
# a set of pairs, not a `SeqData`:

# %%
numbers = tasks["numbers"].load_data(tasks["numbers"].config(size=1000)).split("train")
for i in range(4):
    print(f"{numbers.english[i]!r:>55} -> {numbers.french[i]!r}")

# %% [markdown]
# An encoder reads the English words, and a decoder writes the French words one at a
# time, each fed back as its next input and, with `--attention luong` (the default),
# looking back at the encoder's states. The decoder's half is also the one-to-many
# pattern: `chorales` starts from one chord and `rnnlab sample` from a prime, and each
# generated output becomes the next input. These two need minutes of training before
# they produce anything useful, so they are not trained here.
#
# ## Three patterns, trained briefly
#
# The same LSTM with 32 units, 30 batches each, then scored on the test split
# next to the task's trivial baseline. That baseline is the most frequent class for
# vowels and primitives, and the symbol frequencies at every step for reber.

# %%
runs = pathlib.Path(tempfile.mkdtemp())
budget = dict(steps=30, eval_every=30, log_every=30, hidden=32, cell="lstm", seed=0)
scores = {}
for name, metric in [("vowels", "accuracy"), ("primitives", "accuracy"), ("reber", "steps_right")]:
    task = tasks[name]
    config = task.config(**budget, **({"batch_size": 32} if name == "reber" else {}))
    task.train(runs / name, config)
    result = task.evaluate(runs / name, "test", figures=False)
    scores[name] = (metric, result["metrics"][metric], result["baseline"][metric])
scores

# %%
fig = Figure(figsize=(6, 3))
ax = fig.subplots()
names = list(scores)
ax.bar(np.arange(3) - 0.2, [scores[n][1] for n in names], 0.4, label="LSTM, 30 batches")
ax.bar(np.arange(3) + 0.2, [scores[n][2] for n in names], 0.4, color="0.7", label="baseline")
ax.set_xticks(range(3), [f"{n}\n({scores[n][0]})" for n in names])
ax.set(ylim=(0, 1), ylabel="test score (higher is better)")
ax.legend(loc="upper right")
fig

# %% [markdown]
# The code was the same three calls for every task. What differed was inside the
# task: where the loss is read (the last valid step, every valid step, or every step
# against the next input) and its metric. Even after 30 batches each network
# is well above its baseline:
#
# - on vowels, the LSTM names most speakers correctly, where the majority guess gets
#   under one in ten right;
# - on primitives, a label at every one of 240 steps is a slower lesson: after 30
#   batches the network is right about half the time. With the task's default 300
#   batches it reaches 0.95 (the table of defaults on the
#   [Sequence tasks](../../guide/tasks/) page);
# - on reber, the network already gets the allowed next symbols right at most steps. The
#   long-range part, remembering the second symbol to predict the second-to-last,
#   takes the default 1,000 steps (`rnnlab train --task reber`).

# %%
for name, (metric, value, baseline) in scores.items():
    assert value > baseline + 0.1, (name, metric, value, baseline)
