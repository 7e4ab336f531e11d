"""``rnnlab train``, ``rnnlab sample`` and ``rnnlab eval``: the character-level language model
(``--task charlm``, the default) and, through :mod:`rnnlab.cli.tasks`, the sequence tasks."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated

import typer

from rnnlab.charlm.config import ModelConfig, TrainConfig
from rnnlab.cli import tasks
from rnnlab.errors import UserError

Opt = typer.Option


def train(
    out: Annotated[
        Path, Opt("--out", help="Run directory (created; must be new unless --resume).")
    ],
    task: Annotated[
        str, Opt(help="charlm | classify | tag | motions | vowels (see rnnlab tasks).")
    ] = None,
    data: Annotated[
        Path,
        Opt(
            help="Your FILE.npz for --task classify or tag (x, y, lengths, split); "
            "--task chorales: a JSB chorales JSON file (train, valid, test)."
        ),
    ] = None,
    model: Annotated[
        str, Opt(help="rnn (default) or a baseline that the task allows (see rnnlab tasks).")
    ] = None,
    window: Annotated[
        int,
        Opt(
            help="Steps seen at once by --model window-mlp, conv1d, transformer (default: 8; "
            "charlm: 16)."
        ),
    ] = None,
    lag: Annotated[
        int, Opt(help="--task recall: distractor steps between the cue and the query (30).")
    ] = None,
    attention: Annotated[
        str, Opt(help="--task numbers: luong (default) | bahdanau | none, over the encoder.")
    ] = None,
    size: Annotated[
        int, Opt(help="--task numbers: training pairs (default: 20000; val, test: a tenth).")
    ] = None,
    unit: Annotated[
        str, Opt(help="What one step is, for tasks that offer a choice: word | char.")
    ] = None,
    vocab: Annotated[
        int, Opt(help="Token-id tasks: keep the N most frequent training tokens (default: 4000).")
    ] = None,
    resolution: Annotated[
        str, Opt(help="--task chorales: frames of a quarter (default) or a sixteenth note.")
    ] = None,
    variant: Annotated[
        str, Opt(help="--task adding: paper (default; H&S 1997 exp. 4) | sum.")
    ] = None,
    length: Annotated[
        int, Opt(help="--task adding: the minimal sequence length T (default: 100).")
    ] = None,
    forget_bias: Annotated[
        float, Opt(help="adding, charlm: initial forget-gate bias of lstm, peephole, cifg.")
    ] = None,
    corpus: Annotated[
        str,
        Opt(help=f"shakespeare | python | PATH to a UTF-8 file (default: {TrainConfig.corpus})."),
    ] = None,
    cell: Annotated[
        str,
        Opt(
            help="lstm | gru | elman | jordan | peephole | cifg | lstm1997 | mtrnn"
            f" (default: {ModelConfig.cell})."
        ),
    ] = None,
    hidden: Annotated[
        int, Opt(help=f"Hidden units per layer (default: {ModelConfig.hidden}).")
    ] = None,
    layers: Annotated[int, Opt(help=f"Recurrent layers (default: {ModelConfig.layers}).")] = None,
    embed: Annotated[
        int, Opt(help=f"Token embedding size (default: {ModelConfig.embed}; token tasks: 32).")
    ] = None,
    dropout: Annotated[
        float, Opt(help=f"Dropout between layers (default: {ModelConfig.dropout}).")
    ] = None,
    onehot: Annotated[
        bool, Opt("--onehot", help="charlm: one-hot input instead of an embedding (char-rnn).")
    ] = None,
    init: Annotated[
        float, Opt(help="charlm: every weight and bias from U(-init, init) (char-rnn: 0.08).")
    ] = None,
    seq_len: Annotated[
        int, Opt(help=f"Characters per batch row (BPTT window) (default: {TrainConfig.seq_len}).")
    ] = None,
    batch_size: Annotated[
        int, Opt(help=f"Parallel streams through the corpus (default: {TrainConfig.batch_size}).")
    ] = None,
    steps: Annotated[
        int, Opt(help=f"Training steps (batches) (default: {TrainConfig.steps}).")
    ] = None,
    minutes: Annotated[float, Opt(help="Stop after this many minutes.")] = None,
    optimizer: Annotated[
        str, Opt(help=f"adam | rmsprop | sgd (default: {TrainConfig.optimizer}).")
    ] = None,
    lr: Annotated[float, Opt(help=f"Peak learning rate (default: {TrainConfig.lr}).")] = None,
    momentum: Annotated[
        float, Opt(help=f"Momentum for sgd (0 for none) (default: {TrainConfig.momentum}).")
    ] = None,
    schedule: Annotated[
        str,
        Opt(
            help="constant (after --warmup) | cosine | epoch-decay "
            f"(default: {TrainConfig.schedule})."
        ),
    ] = None,
    warmup: Annotated[
        int, Opt(help=f"Linear warm-up steps (default: {TrainConfig.warmup}).")
    ] = None,
    clip: Annotated[
        float, Opt(help=f"Clip the gradient's global norm (0: off) (default: {TrainConfig.clip}).")
    ] = None,
    truncate: Annotated[
        int, Opt(help=f"Truncate BPTT to chunks of K steps (default: {TrainConfig.truncate}).")
    ] = None,
    eval_every: Annotated[
        int,
        Opt(
            help=f"Validate, sample, checkpoint every N steps (default: {TrainConfig.eval_every})."
        ),
    ] = None,
    log_every: Annotated[
        int, Opt(help=f"Log the training loss every N steps (default: {TrainConfig.log_every}).")
    ] = None,
    seed: Annotated[int, Opt(help=f"Random seed (default: {TrainConfig.seed}).")] = None,
    devices: Annotated[
        int,
        Opt(
            help="Devices to split each batch over (default: every local device, CPU cores "
            "included, that divides the batch)."
        ),
    ] = None,
    processes: Annotated[
        int,
        Opt(
            help="Cooperating processes on this machine (jax.distributed), the stand-in for "
            "hosts; each gets its share of the cores (default: 1)."
        ),
    ] = None,
    resume: Annotated[bool, Opt("--resume", help="Continue the run in --out.")] = False,
):
    """Train a model on a task (default: the char model, an LSTM on Shakespeare)."""
    given = {k: v for k, v in locals().items() if k not in ("out", "resume", "processes")}
    from rnnlab.cli.tasks import task_of_run, train_task

    if task is None:
        task = task_of_run(out) if resume else "charlm"
    if task != "charlm":
        return train_task(task, out, {**given, "data": None if data is None else str(data)}, resume)
    if given.pop("resolution") is not None:
        raise UserError("--resolution applies to --task chorales only")
    for flag, value in (("data", data), ("unit", unit), ("vocab", vocab), ("variant", variant),
                        ("length", length), ("lag", lag)):  # fmt: skip
        if value is not None:
            raise UserError(f"--{flag} does not apply to --task charlm (it reads --corpus)")
    from rnnlab.charlm import RunConfig, config_from_flags
    from rnnlab.charlm import train as run_training
    from rnnlab.engine.devices import process_index

    flags = {
        k: v
        for k, v in given.items()
        if k not in ("task", "data", "unit", "vocab") and v is not None
    }
    # On --resume the saved config is the base; train() checks the result either way.
    config = config_from_flags(RunConfig.load(out) if resume else None, **flags)
    config.model.check()  # a bad --model or --window: one line, before the progress bar
    if process_index() > 0:  # one voice: process 0 reports for the group
        summary = run_training(out, config, resume=resume)
        if summary["status"] == "diverged":
            raise UserError(summary["message"])
        return
    with _Progress() as progress:
        summary = run_training(out, config, resume=resume, report=progress.report)
    if summary["status"] == "diverged":
        raise UserError(summary["message"])
    if summary["interrupted"]:
        typer.echo(f"stopped at step {summary['step']}; continue with --resume", err=True)
    typer.echo(f"best validation loss {_fmt(summary['best_val'])}; run saved in {out}", err=True)


def sample(
    run_dir: Annotated[Path, typer.Argument(help="A run directory made by rnnlab train.")],
    length: Annotated[
        int, Opt(help="Characters (default 500), frames or syllables to generate.")
    ] = None,
    temperature: Annotated[float, Opt(help="Softmax temperature (lower: safer).")] = 1.0,
    prime: Annotated[str, Opt(help="Text to read before sampling.")] = "",
    seed: Annotated[int, Opt(help="Random seed.")] = 0,
    argmax: Annotated[
        bool,
        Opt("--argmax", help="Always take the most likely char (chorales: pitches at p >= 0.5)."),
    ] = False,
    out: Annotated[
        Path, Opt("--out", help="chorales: the MIDI file to write (a PNG lands beside it).")
    ] = None,
    beam: Annotated[int, Opt(help="--task numbers: beam width (default: 1, greedy).")] = None,
):
    """Stream generated text to stdout; the same seed gives the same text."""
    import jax

    from rnnlab.cli.tasks import task_of_run

    if tasks.generates(task_of_run(run_dir)):  # chorales, birdsong
        return tasks.generate_task(
            task_of_run(run_dir), run_dir, prime=prime, length=length, temperature=temperature,
            seed=seed, argmax=argmax, out=out,
        )  # fmt: skip
    if out is not None:
        raise UserError("--out applies to the runs of tasks that write files (chorales)")
    length = 500 if length is None else length
    if task_of_run(run_dir) != "charlm":
        return tasks.sample_task(task_of_run(run_dir), run_dir, prime, beam)
    if beam is not None:
        raise UserError("--beam applies to runs of a task that decodes (numbers), not charlm")

    from rnnlab.charlm import load_run
    from rnnlab.charlm import sample as sample_chars

    _, model, vocab = load_run(run_dir)
    sys.stdout.write(prime)
    for ch in sample_chars(
        model,
        vocab,
        length=length,
        key=jax.random.key(seed),
        temperature=temperature,
        prime=prime,
        argmax=argmax,
    ):
        sys.stdout.write(ch)
        sys.stdout.flush()
    sys.stdout.write("\n")


def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="A run directory made by rnnlab train.")],
    split: Annotated[str, Opt(help="val | test")] = "test",
    file: Annotated[Path, Opt(help="Evaluate on this UTF-8 text file instead.")] = None,
    as_json: Annotated[
        bool,
        Opt("--json", help="One JSON object: task, split, metrics and the trivial baseline's."),
    ] = False,
    beam: Annotated[int, Opt(help="--task numbers: beam width (default: 1, greedy).")] = None,
):
    """Print the metrics of a run's best checkpoint (charlm: nats/char and bits/char)."""
    from rnnlab.cli.tasks import eval_task, task_of_run

    name = task_of_run(run_dir)
    if file is not None and (as_json or name != "charlm"):
        raise UserError("--file evaluates a charlm run on a text file, without --json")
    if as_json or name != "charlm":
        return eval_task(name, run_dir, split, as_json, beam)
    from rnnlab.charlm import evaluate as nats_per_char
    from rnnlab.charlm import load_run
    from rnnlab.data import load_corpus, split_ids

    config, model, vocab = load_run(run_dir)
    if file is not None:
        ids, name = vocab.encode(load_corpus(str(file)).text), str(file)
    else:
        if split not in ("val", "test"):
            raise UserError(f"--split must be val or test, got {split!r}")
        ids, name = split_ids(vocab.encode(load_corpus(config.train.corpus).text))[split], split
    nats = nats_per_char(
        model, ids, batch_size=config.train.batch_size, seq_len=config.train.seq_len
    )
    typer.echo(f"{name}: {nats:.3f} nats/char, {nats / math.log(2):.3f} bits/char")


def _fmt(x):
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.4f} nats/char"


class _Progress:
    """A rich progress bar with loss and characters per second, plus eval lines."""

    def __enter__(self):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = Console(stderr=True)
        self.bar = Progress(
            TextColumn("step {task.completed:>6.0f}/{task.total:.0f}"),
            BarColumn(),
            TextColumn("loss {task.fields[loss]}  {task.fields[cps]} chars/s"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self.bar.__enter__()
        self.task = None
        return self

    def report(self, event):
        kind = event["event"]
        if kind == "start":
            self.task = self.bar.add_task(
                "train", total=event["steps"], completed=event["step"], loss="-", cps="-"
            )
            self.console.print(
                f"corpus {event['corpus']}: {event['chars']:,} chars, vocabulary "
                f"{event['vocab']}; {event['devices']} device(s) x {event['processes']} process(es)"
            )
        elif kind == "step":
            self.bar.update(
                self.task,
                completed=event["step"],
                loss=f"{event['loss']:.3f}",
                cps=f"{event['chars_per_s']:,.0f}",
            )
        elif kind == "eval":
            self.console.print(
                f"step {event['step']}: val {event['val_loss']:.4f} nats/char "
                f"(best {event['best']:.4f})\n[dim]{event['sample']!r}[/dim]"
            )

    def __exit__(self, *exc):
        self.bar.__exit__(*exc)


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("sample")(sample)
    app.command("eval")(evaluate)
    app.command("tasks")(tasks.tasks)
