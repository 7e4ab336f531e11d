"""War and Peace with Karpathy, Johnson & Fei-Fei (2015)'s own recipe (issue 18): the
``warpeace-paper`` row of ``bench/fidelity.py``, and a summary of its runs.

    python bench/fidelity.py --rows warpeace-paper --out runs/fidelity/warpeace-paper.json
    python bench/warpeace_paper.py --runs runs/fidelity --out bench/out/warpeace_paper

The recipe (their sec. 3.3): the text split 80/10/10 (``--split 80/10/10``), one-hot
input, RMSProp at 2e-3 (decay 0.95), batches of 100 streams of 100 characters,
U(-0.08, 0.08) initialisation, 50 epochs with the learning rate x 0.95 an epoch after the
10th, early stopping on validation (the best epoch's checkpoint is scored on test), and
dropout "cross-validated for each model individually". Here the dropout of a cell in
``--wp-select`` (the LSTM by default) is chosen on validation from ``--wp-dropouts`` by
short runs of ``--wp-select-epochs`` epochs each; the other cells take the LSTM's
choice. Dropout applies to the recurrent layer's output before the readout (as
char-rnn). The GRU and tanh RNN have the LSTM's parameter count (GRU-153 and RNN-279
for LSTM-128 on our copy of the text).

Every run saves a checkpoint once an epoch; a run found unfinished in ``--runs`` is
resumed where it stopped (``rnnlab train --resume``), a finished one is only scored
again. The second command reads the runs' ``metrics.jsonl`` (the validation loss of
every epoch) and writes ``OUT.json`` and ``OUT.md``; it trains nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

PREFIX = "wp-paper-"


def _fidelity():
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import fidelity

    return fidelity


def _config(args, cell: str, hidden: int, dropout: float, steps: int, eval_every: int):
    from rnnlab.tasks import get_task

    return get_task("charlm").config(
        cell=cell, hidden=hidden, onehot=True, init=0.08, dropout=dropout,
        corpus=str(Path(args.corpus).resolve()), split=args.wp_split, seq_len=100,
        batch_size=100, steps=steps, optimizer="rmsprop", lr=2e-3, schedule="epoch-decay",
        eval_every=eval_every, log_every=min(48, eval_every), sample_chars=0, devices=1,
        seed=args.seed,
    )  # fmt: skip


def _saved_step(run_dir: Path) -> int | None:
    """The step of the run's last save (None: no run, or one that died before saving)."""
    try:
        return int(json.loads((run_dir / "progress.json").read_text())["step"])
    except (OSError, ValueError, KeyError):
        return None


def train_or_resume(run_dir: Path, config, fresh: bool = False) -> None:
    """Train ``config`` into ``run_dir``, or continue the run there up to its steps."""
    from rnnlab.tasks import get_task

    task = get_task("charlm")
    step = None if fresh else _saved_step(run_dir)
    if step is None:
        shutil.rmtree(run_dir, ignore_errors=True)
        task.train(run_dir, config)
    elif step < config.train.steps:
        print(f"{run_dir.name}: resuming at step {step} of {config.train.steps}", file=sys.stderr)
        task.train(run_dir, task.resume_config(run_dir, {"steps": config.train.steps}),
                   resume=True)  # fmt: skip


def run_summary(run_dir: Path, test: bool = False, book_end: str = "") -> dict:
    """What a run's files say: validation nats/char of every epoch (``metrics.jsonl``),
    the best, how far it got, its minutes; test nats/char of the best checkpoint when the
    run is finished (or ``test``)."""
    fb = _fidelity()
    config = json.loads((run_dir / "config.json").read_text())
    steps, B, T = (
        config["train"]["steps"],
        config["train"]["batch_size"],
        config["options"]["seq_len"],
    )
    every = (config["data"]["sizes"]["train"] // B - 1) // T  # steps an epoch (StreamBatches)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    val = [(r["step"], r["val_loss"]) for r in rows if "val_loss" in r]
    done = _saved_step(run_dir) or 0
    out = {
        "dropout": config["model"]["dropout"], "hidden": config["model"]["hidden"],
        "cell": config["model"]["cell"], "split": config["options"].get("split", "90/5/5"),
        "epochs_done": round(done / every, 2), "epochs": round(steps / every, 2),
        "finished": done >= steps,
        "val_by_epoch": [round(v, 4) for _, v in val],
        "best_val": round(min(v for _, v in val), 4) if val else None,
        "best_epoch": round(min(val, key=lambda sv: sv[1])[0] / every, 2) if val else None,
        "minutes": fb._minutes(run_dir),
    }  # fmt: skip
    if (test or out["finished"]) and (run_dir / "best.eqx").is_file():
        whole, book = fb._charlm_test(run_dir, book_end)
        out["test_nats_per_char"] = round(whole, 3)
        out["test_nats_per_char_book_only"] = None if book is None else round(book, 3)
    return out


def warpeace_paper_row(args, emit) -> dict:
    """Choose the dropout on validation by short runs, then train each cell the paper's
    50 epochs, one run at a time, resuming what an earlier call left unfinished."""
    from rnnlab.data import Vocab, load_corpus

    fb = _fidelity()
    corpus = fb._data_path(args.corpus, "--corpus")
    V = Vocab.from_text(load_corpus(str(corpus)).text).size
    per_epoch = fb._steps_per_epoch(corpus, args.wp_split)
    target = fb._charlm_params("lstm", args.wp_size, V)
    select_steps = max(1, round(args.wp_select_epochs * per_epoch))
    out = {"paper": "Karpathy, Johnson & Fei-Fei 2015, Fig. 1 (left): test nats/char, 1 layer",
           "recipe": f"split {args.wp_split}, {args.wp_epochs} epochs of {per_epoch} steps "
           "(100 x 100 chars), RMSProp 2e-3, lr x 0.95 an epoch after the 10th, best "
           "validation epoch scored on test; dropout chosen on validation from "
           f"{args.wp_dropouts} by runs of {args.wp_select_epochs:g} epochs",
           "data": f"{corpus.name}, vocabulary {V}", "models": {}}  # fmt: skip
    chosen = None
    for cell in args.wp_cells:
        hidden = fb._same_size(cell, target, V)
        name = f"{cell}-{hidden}"
        entry = out["models"][name] = {
            "paper": fb.KARPATHY[cell, args.wp_size], "hidden": hidden,
            "params": fb._charlm_params(cell, hidden, V),
        }  # fmt: skip
        dropout = chosen
        if cell in args.wp_select or chosen is None:
            select = {}
            for p in args.wp_dropouts:
                run_dir = args.runs / f"{PREFIX}{name}-select-dropout{p:g}"
                config = _config(args, cell, hidden, p, select_steps, max(1, select_steps // 4))
                train_or_resume(run_dir, config, args.fresh)
                select[f"{p:g}"] = run_summary(run_dir)["best_val"]
                entry["dropout_validation"] = dict(select)
                emit(out)
            dropout = float(min(select, key=select.get))
            chosen = dropout if chosen is None or cell == "lstm" else chosen
        entry["dropout"] = dropout
        run_dir = args.runs / f"{PREFIX}{name}-dropout{dropout:g}"
        config = _config(args, cell, hidden, dropout, args.wp_epochs * per_epoch, per_epoch)
        train_or_resume(run_dir, config, args.fresh)
        entry.update(run_summary(run_dir, args.wp_test, args.book_end), run=str(run_dir))
        emit(out)
    return out


# ---------------------------------------------------------------------------- summary


def summarize(runs: Path, test: bool, book_end: str) -> dict:
    """Every ``wp-paper-*`` run in ``runs``, by name."""
    out = {}
    for run_dir in sorted(runs.glob(PREFIX + "*")):
        if (run_dir / "metrics.jsonl").is_file() and (run_dir / "config.json").is_file():
            out[run_dir.name[len(PREFIX) :]] = run_summary(run_dir, test, book_end)
    return out


def markdown(summary: dict) -> str:
    lines = ["| run | split | dropout | epochs done | best val (epoch) | test | book only | "
             "minutes |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, r in summary.items():
        lines.append(
            f"| {name} | {r['split']} | {r['dropout']:g} | {r['epochs_done']:g} of "
            f"{r['epochs']:g} | {r['best_val']} ({r['best_epoch']}) | "
            f"{r.get('test_nats_per_char', '')} | {r.get('test_nats_per_char_book_only', '')} "
            f"| {r['minutes']} |"
        )
    lines += ["", "Validation nats/char at every evaluation (once an epoch; the dropout "
              "selection runs: 4 times a run):", ""]  # fmt: skip
    lines += [f"- {name}: {', '.join(f'{v:.3f}' for v in r['val_by_epoch'])}"
              for name, r in summary.items()]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=Path, default=Path("runs/fidelity"))
    p.add_argument("--out", type=Path, required=True, help="writes OUT.json and OUT.md")
    p.add_argument("--test", action="store_true", help="score unfinished runs on test too")
    p.add_argument("--book-end", default="a dependence of which we are not\nconscious.")
    args = p.parse_args(argv)
    summary = summarize(args.runs, args.test, args.book_end)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(summary))
    print(markdown(summary))
    return summary


if __name__ == "__main__":
    main()
