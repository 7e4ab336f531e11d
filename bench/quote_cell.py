"""Karpathy, Johnson & Fei-Fei (2015)'s quote cell, tried where it is most likely within
this machine's budget (issue 18 item 5): a 2-layer LSTM on War and Peace, whose dialogue
fills much of the text, trained for ``--minutes`` (a rerun searches the run it finds;
``--more`` trains it for ``--minutes`` more, up to ``--steps``), then
``bench/inspect_cells.py``'s search: for every detector, the unit (any layer, ``c`` or
``h``) whose activation correlates best with it on the first ``--chars`` characters
of the run's ``--split``, beside the untrained twin's best. ``--also RUN ...`` adds char-model runs
trained elsewhere (read only: their best checkpoints).

The figure (``--figure``) colours the text by the best quote unit of each model (tanh(c)
or h), -1 red and +1 blue as in the paper's Fig. 2, the detector's quotations
underlined. The detector toggles at every straight double quote from the start of the
test excerpt: a quotation open across the split's start, or a paragraph of dialogue
continued without a closing quote (the book's convention), flips it until the next one.

    python bench/quote_cell.py --corpus ../shared/data/warpeace.txt --minutes 30 \\
        --out bench/out/quote_cell.json --figure docs/papers/quote_cell.png
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inspect_cells import best  # noqa: E402

SHOW = 560  # characters in the figure


def train(args) -> Path:
    """Train (or continue) the 2-layer LSTM on the corpus for ``--minutes``."""
    from rnnlab.tasks import get_task

    run_dir = args.runs / f"quote-lstm-{args.layers}x{args.hidden}"
    task = get_task("charlm")
    config = task.config(
        corpus=str(Path(args.corpus).resolve()), cell="lstm", layers=args.layers,
        hidden=args.hidden, onehot=True, split="80/10/10", seq_len=100, batch_size=50,
        steps=args.steps, minutes=args.minutes, lr=2e-3, clip=5.0, eval_every=500,
        log_every=100, sample_chars=0, devices=1, seed=0,
    )  # fmt: skip
    done = _status(run_dir)
    if done is None:
        task.train(run_dir, config)
    elif args.more and done < args.steps:
        task.train(run_dir, config, resume=True)
    return run_dir


def _status(run_dir: Path) -> int | None:
    """The last step logged in the run (None: no run there yet)."""
    path = run_dir / "metrics.jsonl"
    if not (run_dir / "best.eqx").is_file() or not path.is_file():
        return None
    return max(json.loads(line)["step"] for line in path.read_text().splitlines())


def paragraph_quote(text: str) -> np.ndarray:
    """1 inside a double quotation (its opening quote included), as
    :func:`rnnlab.inspect.detect`'s ``quote`` but closed at every blank line: in War and
    Peace a speech that runs on to a new paragraph opens it with a new quote and leaves
    the previous one unclosed, which flips a plain toggle for the rest of the text."""
    out = np.zeros(len(text), np.float32)
    inside = False
    for t, ch in enumerate(text):
        if ch == '"':
            inside = not inside
        elif ch == "\n" and text[t - 1 : t] == "\n":
            inside = False
        out[t] = inside
    return out


def search(run_dir: Path, chars: int, split: str = "test") -> dict:
    """The best unit per detector, trained and untrained, and the traces for the figure."""
    from rnnlab.inspect import detect, run_text, trace_charlm
    from rnnlab.tasks import load_run
    from rnnlab.tasks.charlm import vocab_of

    run = load_run(run_dir)
    config, model, vocab = run.config, run.model, vocab_of(run)
    text = run_text(run_dir, split=split, chars=chars)
    detectors = detect(text)
    detectors["quote_paragraph"] = paragraph_quote(text)
    twin = run.task.build_model(config, run.info)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    out = {
        "cell": config.model.cell, "layers": config.model.layers,
        "hidden": config.model.hidden, "steps": max(r["step"] for r in rows),
        "best_val_nats_per_char": round(min(r["val_loss"] for r in rows if "val_loss" in r), 3),
        "chars": len(text), "inside_quotes": round(float(detectors["quote"].mean()), 3),
        "inside_quotes_paragraph": round(float(detectors["quote_paragraph"].mean()), 3),
        "trained": best(model, vocab, text, detectors),
        "untrained": best(twin, vocab, text, detectors),
    }  # fmt: skip
    traces = {}
    for which, net in (("trained", model), ("untrained", twin)):
        unit = out[which]["quote_paragraph"]
        trace = trace_charlm(net, vocab.encode(text))
        acts = np.asarray(trace.layers[unit["layer"]][unit["name"]])[:, unit["unit"]]  # (T,)
        acts = np.tanh(acts) if unit["name"] == "c" else acts  # the paper's tanh(c)
        traces[which] = (acts, unit)
    return out, text, detectors["quote_paragraph"], traces


def _window(text: str, quote: np.ndarray) -> int:
    """Where the figure's text starts: the line start whose ``SHOW`` characters hold the
    most quotations (openings), the first such."""
    opens = np.flatnonzero(np.diff(quote, prepend=0) > 0)  # (n,) where quotations open
    starts = [0] + [i + 1 for i, ch in enumerate(text[: max(len(text) - SHOW, 1)]) if ch == "\n"]
    counts = [np.count_nonzero((opens >= a) & (opens < a + SHOW)) for a in starts]
    return starts[int(np.argmax(counts))]


def figure(path: Path, panels: list) -> None:
    """Each panel: the text coloured by one unit (tanh(c), or h), quotes underlined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    width = 80
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 2.6 * len(panels)))
    for ax, (title, text, quote, acts) in zip(np.atleast_1d(axes), panels, strict=True):
        start = _window(text, quote)
        text, quote, acts = text[start:], quote[start:], acts[start:]
        a = acts[:SHOW]
        row = col = 0
        for t, ch in enumerate(text[:SHOW]):
            if ch == "\n":
                row, col = row + 1, 0
                continue
            color = plt.cm.RdBu((a[t] + 1) / 2)  # -1 red, +1 blue (Karpathy et al. Fig. 2)
            ax.add_patch(plt.Rectangle((col, -row - 1), 1, 1, color=color, lw=0))
            ax.text(col + 0.5, -row - 0.5, ch, ha="center", va="center", family="monospace",
                    fontsize=6.5)  # fmt: skip
            if quote[t]:
                ax.plot([col, col + 1], [-row - 1, -row - 1], color="k", lw=0.8)
            col += 1
            if col == width:
                row, col = row + 1, 0
        ax.set_xlim(0, width)
        ax.set_ylim(-row - 1.2, 0)
        ax.set_axis_off()
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default="../shared/data/warpeace.txt")
    p.add_argument("--runs", type=Path, default=Path("runs/quote"))
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--minutes", type=float, default=30.0, help="0: train nothing")
    p.add_argument(
        "--more",
        action="store_true",
        help="train an existing run for --minutes more (default: only search it)",
    )
    p.add_argument("--chars", type=int, default=60_000)
    p.add_argument("--split", default="test", choices=("val", "test"))
    p.add_argument("--also", nargs="*", default=[], help="other char-model runs to search")
    p.add_argument("--out", type=Path)
    p.add_argument("--figure", type=Path)
    args = p.parse_args(argv)
    if not Path(args.corpus).is_file():
        sys.exit(f"--corpus {args.corpus}: no such file (a benchmark-only file; see the README)")
    t0 = time.process_time()
    own = [train(args)] if args.minutes > 0 else []  # --minutes 0: search --also only
    result = {"paper": "Karpathy et al. 2015, Fig. 2: a quote cell in their best War and "
              "Peace and Linux-kernel LSTMs (2-3 layers of 512)", "runs": {}}  # fmt: skip
    panels = []
    for r in [*own, *map(Path, args.also)]:
        found, text, quote, traces = search(r, args.chars, args.split)
        result["runs"][str(r)] = found
        for which, (acts, unit) in traces.items():
            panels.append((f"{r.name}, {which}: layer {unit['layer']} {unit['name']}"
                           f"[{unit['unit']}], r = {unit['r']:+.2f} with inside-a-quote",
                           text, quote, acts))  # fmt: skip
    result["cpu_minutes"] = round((time.process_time() - t0) / 60, 1)
    if args.figure:
        figure(args.figure, panels)
        result["figure"] = str(args.figure)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return result


if __name__ == "__main__":
    main()
