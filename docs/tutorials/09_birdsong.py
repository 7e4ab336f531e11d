# %% [markdown]
# # 9. Birdsong: canary songs and a finch's next syllable
#
# Songbirds sing sequences of **syllables**, short sounds from a small repertoire. The
# order is not random: a song follows rules that a first-order Markov chain
# ("which syllable follows which") captures only in part. Bengalese finches have
# transitions that depend on more than the last syllable. Canaries sing
# *phrases*, where one syllable is repeated many times before the song moves on, and
# Gardner and colleagues found that which phrase comes next can depend on phrases
# several steps back (Markowitz et al. 2013). That is a long-range dependency of the
# kind that recurrent networks are built for.
#
# rnnlab's task [`birdsong`](../../cli/tasks/) predicts the next syllable of 571 songs of
# one Bengalese finch. The songs are the example annotations that the `crowsetta`
# package ships, split by recording, and the task reads crowsetta's annotated canary
# song (Giraudon et al. 2021) as well. See [`rnnlab.tasks.birdsong`](../../api/tasks/) and
# [`rnnlab sample`](../../cli/sample/).
#
# You will see:
#
# - a canary song drawn as its phrases over time, in which whole runs of phrases come back;
# - the finch's transition matrix: some syllables have one successor, some several;
# - an LSTM trained briefly (300 batches) that predicts the next syllable better than
#   both Markov chains (orders 1 and 2), and songs sampled from it.
#
# The numbers come from this short run. The task's default of 600 batches reaches a test
# NLL of about 0.68 nats per syllable ([Sequence tasks](../../guide/tasks/)).

# %%
# %matplotlib inline
import pathlib
import tempfile
from collections import Counter

import numpy as np
from matplotlib.figure import Figure

from rnnlab.tasks import get_task
from rnnlab.tasks.birdsong import read_audacity, read_songs

# %% [markdown]
# ## A canary song
#
# One song of a domestic canary, as an Audacity label track: the onset, offset and type
# of each labelled segment (silences left out). A segment lasts from a fifth of a
# second to a second, much longer than one canary syllable (tens of milliseconds).
# So each bar is a *phrase*, one syllable type sung over and over.

# %%
canary = [row for row in read_audacity() if row[2] != "SIL"]
types = list(dict.fromkeys(label for _, _, label in canary))
fig = Figure(figsize=(10, 3.5))
ax = fig.subplots()
for onset, offset, label in canary:
    k = types.index(label)
    ax.broken_barh([(onset, offset - onset)], (k - 0.4, 0.8), color=f"C{k % 10}")
ax.set_yticks(range(len(types)), types)
ax.invert_yaxis()
ax.set(xlabel="time (s)", title=f"a canary song: {len(canary)} phrases of {len(types)} types")
fig

# %%
order = [label for _, _, label in canary]
print(" ".join(order))
runs = Counter(tuple(order[i : i + 3]) for i in range(len(order) - 2))
{" ".join(run): n for run, n in runs.items() if n > 1}  # runs of three that come back

# %% [markdown]
# Runs of phrases come back: `J2 B1 B2 Q H E` twice, many seconds apart, and `H E R`
# twice. (A type listed twice in a row is a phrase that the annotator cut in two.)
# What follows a phrase is not fixed by the phrase alone. After `H` always comes `E`,
# but after `R` comes `J1` or `O`, and after `J2` comes `B1` or `L`. Which one it is depends on where the song is in its larger pattern, and a
# model can only know that by remembering further back than one phrase.
#
# ## A Bengalese finch's 571 songs
#
# The finch's songs are shorter (4 to 16 syllables) and drawn from 9 syllable types.
# Here are the first songs, and how often each syllable is followed by each other one
# in all songs.

# %%
songs = [song for _, song in read_songs()]
for song in songs[:5]:
    print(" ".join(song))
labels = sorted({s for song in songs for s in song})
pairs = Counter((a, b) for song in songs for a, b in zip(song, song[1:], strict=False))
counts = np.array([[pairs[(a, b)] for b in labels] for a in labels], float)
transition = counts / counts.sum(axis=1, keepdims=True).clip(min=1)

fig = Figure(figsize=(4.5, 4))
ax = fig.subplots()
image = ax.imshow(transition, cmap="Greys", vmin=0, vmax=1)
ax.set_xticks(range(len(labels)), labels)
ax.set_yticks(range(len(labels)), labels)
ax.set(xlabel="next syllable", ylabel="syllable", title="P(next | syllable)")
fig.colorbar(image, ax=ax, shrink=0.8)
fig

# %% [markdown]
# Most rows have one dark cell: after that syllable the bird almost always sings
# the same next one. The rows with several grey cells are the branch points, where
# knowing more of the song's past could help.
#
# ## Training an LSTM on the next syllable
#
# Each song is read from a `<start>` symbol, and the network predicts every syllable and
# the song's `<end>` from the ones before. It is scored on recordings it has not
# seen, against first- and second-order Markov chains counted on the training songs.

# %%
task = get_task("birdsong")
run_dir = pathlib.Path(tempfile.mkdtemp()) / "finch"
config = task.config(steps=300, eval_every=300, log_every=50, hidden=64, seed=0)
task.train(run_dir, config)
result = task.evaluate(run_dir, "test", figures=False)
model, chain = result["metrics"], result["baseline"]
rows = {
    "Markov order 1": (chain["nll"], chain["accuracy"]),
    "Markov order 2": (chain["order2_nll"], chain["order2_accuracy"]),
    "LSTM-64, 300 batches": (model["nll"], model["accuracy"]),
}
for name, (nll, acc) in rows.items():
    print(f"{name:>22}: NLL {nll:.3f} nats/syllable, accuracy {acc:.3f}")

# %%
fig = Figure(figsize=(5, 3))
ax = fig.subplots()
ax.barh(list(rows), [nll for nll, _ in rows.values()], color=["0.6", "0.4", "C0"])
ax.invert_yaxis()
ax.set(xlabel="test NLL (nats per syllable, lower is better)")
fig.tight_layout()
fig

# %% [markdown]
# The second-order chain beats the first because some transitions depend on the
# syllable before the last. The LSTM reads the whole song so far, so its state can
# hold whatever part of the past matters, and after this short training it already
# beats both chains.

# %%
assert model["nll"] < chain["order2_nll"] < chain["nll"]
assert len(set(order)) < len(order) and max(runs.values()) >= 2  # phrases recur

# %% [markdown]
# ## New songs
#
# [`Task.sample`](../../api/tasks/#rnnlab.tasks.Task.sample) (`rnnlab sample RUN --prime
# "..."`) continues a song one syllable at a time until the network predicts `<end>`.
# Each drawn syllable is fed back as the next input, the one-to-many pattern of
# [tutorial 7](../07_io_patterns/).

# %%
run = task.load_run(run_dir)
prime = " ".join(songs[0][:3])
for seed in range(4):
    print("".join(task.sample(run, prime=prime, temperature=1.0, seed=seed).text))
