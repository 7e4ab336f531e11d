# %% [markdown]
# # 8. The char model: training, sampling and looking inside
#
# Karpathy's char-rnn reads text one character at a time and predicts the next one. It is
# trained on many parallel streams through the text, and its state is carried from one
# batch to the next (truncated back-propagation through time, tutorial
# [5](../05_bptt/)). Generating text means feeding each drawn character back in. This is
# rnnlab's main job and its default task, `charlm`
# ([`rnnlab train`](../../cli/train/), [`rnnlab sample`](../../cli/sample/),
# [`rnnlab inspect`](../../cli/inspect/)). Here it runs from Python on a slice of
# Shakespeare.
#
# You will see:
#
# - after 150 batches (well under a minute), the loss falls from the uniform guess's
#   $\ln V$ to well below the unigram model's, and the samples already have line
#   breaks and short common words ("the", "and", "with");
# - the **temperature** $T$ divides the logits before the softmax, $p_i \propto
#   e^{z_i / T}$. Low $T$ picks safe, repetitive words and high $T$ makes up words;
# - even this briefly trained network has cells that track *where in the line* it is,
#   which [`rnnlab.inspect`](../../api/inspect/) finds by correlation.
#
# All numbers come from this short run on 300,000 characters. The full model (LSTM 256,
# `make demo`) reaches about 1.6 nats per character.

# %%
# %matplotlib inline
import json
import pathlib
import re
import tempfile

import numpy as np
from IPython.display import Image, display
from matplotlib.figure import Figure

from rnnlab.data import load_corpus
from rnnlab.tasks import get_task

work = pathlib.Path(tempfile.mkdtemp())
text = load_corpus("shakespeare").text
(work / "slice.txt").write_text(text[:300_000], encoding="utf-8")  # the first plays
print(text[:300])

# %% [markdown]
# ## Training briefly
#
# `--corpus PATH` takes any UTF-8 text. The other settings are a smaller LSTM (128
# units, embeddings of 32) and shorter streams (50 characters) than the defaults, so
# that 150 batches of 32 streams take seconds.

# %%
task = get_task("charlm")
config = task.config(
    corpus=str(work / "slice.txt"), hidden=128, embed=32, seq_len=50, batch_size=32,
    steps=150, eval_every=150, log_every=10, eval_chars=5000, sample_chars=0, seed=0,
)  # fmt: skip
summary = task.train(work / "run", config)
result = task.evaluate(work / "run", "test", figures=False)
result

# %%
log = [json.loads(line) for line in (work / "run" / "metrics.jsonl").read_text().splitlines()]
steps = [r["step"] for r in log if "loss" in r]
losses = [r["loss"] for r in log if "loss" in r]
vocab = task.load_run(work / "run").info["vocab"]
fig = Figure(figsize=(6, 3))
ax = fig.subplots()
ax.plot(steps, losses, "o-", ms=3, label="training loss")
ax.axhline(np.log(len(vocab)), color="0.5", ls=":", label=f"uniform, ln {len(vocab)}")
unigram = result["baseline"]["nats_per_char"]
ax.axhline(unigram, color="k", ls="--", label="unigram model")
ax.set(xlabel="batch", ylabel="nats per character", title="150 batches on 300k characters")
ax.legend()
fig

# %% [markdown]
# The first batches learn the letter frequencies, which is the drop down to the unigram
# line. Everything below that line comes from context: which letters follow which, then
# short words. The test score has the same units:

# %%
print(
    f"test: {result['metrics']['nats_per_char']:.2f} nats/char "
    f"({result['metrics']['bits_per_char']:.2f} bits), unigram {unigram:.2f}"
)
assert result["metrics"]["nats_per_char"] < unigram - 0.5

# %% [markdown]
# ## Sampling: priming and temperature
#
# [`Task.sample`](../../api/tasks/#rnnlab.tasks.Task.sample) (`rnnlab sample RUN
# --prime ... --temperature ...`) first reads the prime, which sets the state, and then
# draws one character at a time. The same seed gives the same draws, so the
# samples below differ only in their temperature.

# %%
run = task.load_run(work / "run")
samples = {}
for temperature in (0.3, 0.7, 1.0, 1.5):
    piece = task.sample(run, prime="ROMEO:", length=300, temperature=temperature, seed=0)
    samples[temperature] = "".join(piece.text)
    print(f"--- T = {temperature}\n{samples[temperature][:200]}\n")

# %% [markdown]
# How many of the sampled words are words of the training text, and how varied are
# they?

# %%
known = set(re.findall(r"[a-z]+", text[:300_000].lower()))
real, distinct = [], []
for sample in samples.values():
    words = re.findall(r"[a-z]+", sample[len("ROMEO:") :].lower())
    real.append(np.mean([w in known for w in words]))
    distinct.append(len(set(words)) / len(words))
fig = Figure(figsize=(5, 3))
ax = fig.subplots()
ax.plot(list(samples), real, "o-", label="words found in the text")
ax.plot(list(samples), distinct, "s-", label="distinct words / words")
ax.set(xlabel="temperature T", ylabel="fraction", ylim=(0, 1.05))
ax.legend()
fig

# %% [markdown]
# At $T = 0.3$ the softmax is nearly an argmax. Almost every word is a real one, but the
# same few ("the", "and") repeat, because the most likely continuation after "the" leads
# back to "the". As $T$ grows, the rarer characters get their share: the text becomes
# more varied and more of its words are made up. A common choice is $T$ between
# 0.5 and 1, and `make demo` uses 0.8.

# %%
assert real[0] > real[-1] and distinct[0] < distinct[-1]

# %% [markdown]
# ## Looking inside: `rnnlab inspect`
#
# [`Task.inspect`](../../api/tasks/#rnnlab.tasks.Task.inspect) runs the network over
# test text and records every cell and gate. It then correlates each unit with simple
# properties of the text (inside quotes, position in the line, start of a word,
# brackets...), in the spirit of Karpathy, Johnson and Fei-Fei (2015). It writes an HTML
# page where you hover over the text to see a unit's activation (`inspect.html` in the
# run directory; see [Seeing inside](../../guide/inspect/)), and two figures.

# %%
found = task.inspect(work / "run", chars=1500)
best = {det: rows[0] for det, rows in found["found"].items() if rows}
for det, f in best.items():
    print(f"{det:>14}: layer {f.layer} {f.name}[{f.unit}]  r = {f.r:+.2f}")
for path in found["figures"]:
    display(Image(filename=str(path), width=600))

# %% [markdown]
# The strongest finding here is a cell that tracks the position in the line: its
# value changes steadily from one newline to the next. Verse has lines of similar
# lengths, so knowing how far into the line it is helps the network predict the next
# newline, and it learns this early. The saturation figure shows how
# many gates are near 0 or 1, so acting as switches. The gradient figure shows how far
# back in the text the loss still reaches.

# %%
assert abs(best["line_position"].r) > 0.5
