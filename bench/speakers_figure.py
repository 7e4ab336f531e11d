"""The figure of ``bench/speakers_transfer.py``'s result (issue 18 item 4): test accuracy
of "who said this speech" per seed, the pretrained language model's states against the
untrained twin's, beside naive Bayes and the majority class, with the standard error of
an accuracy on the 130 test speeches.

    python bench/speakers_figure.py bench/out/speakers_transfer.json docs/papers/speakers.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def main(src: str, dst: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = json.loads(Path(src).read_text())
    seeds = sorted(d["seeds"], key=int)
    n_test = d["speeches"]["test"]
    nb = d["naive_bayes_test_accuracy"]
    se = np.sqrt(nb * (1 - nb) / n_test)  # binomial standard error at naive Bayes' accuracy
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    for i, (which, colour) in enumerate((("pretrained", "C0"), ("untrained", "C7"))):
        acc = [d["seeds"][s][which]["test_accuracy"] for s in seeds]
        x = np.arange(len(seeds)) + (i - 0.5) * 0.35
        ax.bar(x, acc, 0.35, color=colour, label=f"{which} LSTM-{d['hidden']} states "
               f"(mean {np.mean(acc):.3f})")  # fmt: skip
    ax.axhspan(nb - se, nb + se, color="C3", alpha=0.12, lw=0)
    ax.axhline(nb, color="C3", label=f"naive Bayes {nb:.3f} (band: its standard error)")
    ax.axhline(d["majority"], color="k", ls=":", label=f"majority {d['majority']:.3f}")
    ax.set_xticks(range(len(seeds)), [f"seed {s}" for s in seeds])
    ax.set_ylabel(f"test accuracy ({n_test} speeches)")
    ax.set_ylim(0, 0.35)
    ax.set_title("speakers: who said this speech? (a logistic regression on the LSTM's states)",
                 fontsize=9)  # fmt: skip
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(dst, dpi=130)


if __name__ == "__main__":
    main(*sys.argv[1:3])
