"""Typed configuration of a character-level language-model run, saved as ``config.json``.

CLI flags map one-to-one onto these fields (``--seq-len`` is ``seq_len``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from rnnlab.cells import CELLS
from rnnlab.errors import UserError

OPTIMIZERS = ("adam", "rmsprop", "sgd")
SCHEDULES = ("constant", "cosine", "epoch-decay")
MODELS = ("rnn", "window-mlp", "conv1d", "transformer")


@dataclass
class ModelConfig:
    """The network: embedding -> ``layers`` recurrent layers of ``cell`` -> softmax.

    ``onehot``: the first layer reads each character as a one-hot vector of the
    vocabulary's size instead of a learned embedding (``embed`` is then unused), as in
    Karpathy et al. 2015. ``init``: when > 0, every weight and bias is drawn from
    U(-init, init) (char-rnn's 0.08) instead of the torch-style defaults.
    ``forget_bias``: the forget gates (lstm, peephole, cifg) start at f = sigmoid(B),
    after ``init`` (char-rnn: 1); None keeps the cell's own initialisation.
    """

    cell: str = "lstm"
    hidden: int = 256
    layers: int = 1
    embed: int = 64
    dropout: float = 0.0
    onehot: bool = False
    init: float = 0.0
    forget_bias: float | None = None
    # --model: "rnn", or a window baseline (rnnlab.models.WindowLM) over the last
    # `window` characters (per layer for conv1d and transformer).
    model: str = "rnn"
    window: int = 16

    def check(self) -> None:
        if self.model not in MODELS:
            raise UserError(
                f"--model {self.model!r} does not apply to --task charlm; "
                f"choose one of {', '.join(MODELS)}"
            )
        if self.window < 1:
            raise UserError(f"--window must be >= 1, got {self.window}")
        if self.model != "rnn" and (self.dropout > 0 or self.onehot or self.init > 0):
            raise UserError(
                f"--dropout, --onehot and --init apply to --model rnn only, not {self.model}"
            )
        if self.cell not in CELLS:
            raise UserError(f"unknown --cell {self.cell!r}; choose one of {', '.join(CELLS)}")
        for name in ("hidden", "layers", "embed"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise UserError(f"--dropout must be in [0, 1), got {self.dropout}")
        if not self.init >= 0.0:
            raise UserError(f"--init must be >= 0 (0: default initialisation), got {self.init}")
        if self.forget_bias is not None and (
            self.model != "rnn" or self.cell not in ("lstm", "peephole", "cifg")
        ):
            raise UserError(
                "--forget-bias needs --model rnn and a cell with a forget gate (lstm, peephole, "
                f"cifg), not --cell {self.cell}"
            )


@dataclass
class TrainConfig:
    """How to train: data, batches, optimiser, schedule, evaluation and logging."""

    corpus: str = "shakespeare"
    seq_len: int = 100
    batch_size: int = 32
    steps: int = 2000
    minutes: float | None = None
    optimizer: str = "adam"
    lr: float = 2e-3
    momentum: float = 0.9
    # Constant after warm-up: a short run, or one ended by --minutes, is not spent far
    # below the peak rate (a cosine decay over --steps lost 0.5 bits/char at 300 steps).
    schedule: str = "constant"
    warmup: int = 0
    clip: float = 5.0
    truncate: int | None = None
    seed: int = 0
    eval_every: int = 200
    eval_chars: int = 100_000
    log_every: int = 20
    sample_chars: int = 200
    devices: int | None = None  # per process; None: every local device that divides the batch

    def check(self) -> None:
        for name in ("seq_len", "batch_size", "steps", "eval_every", "log_every"):
            if getattr(self, name) < 1:
                flag = name.replace("_", "-")
                raise UserError(f"--{flag} must be >= 1, got {getattr(self, name)}")
        if self.optimizer not in OPTIMIZERS:
            raise UserError(
                f"unknown --optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}"
            )
        if self.schedule not in SCHEDULES:
            raise UserError(
                f"unknown --schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}"
            )
        if not self.lr > 0:
            raise UserError(f"--lr must be > 0, got {self.lr}")
        if self.clip is not None and self.clip < 0:
            raise UserError(f"--clip must be >= 0 (0 turns clipping off), got {self.clip}")
        if self.truncate is not None and self.truncate < 1:
            raise UserError(f"--truncate must be >= 1, got {self.truncate}")
        if self.minutes is not None and self.minutes <= 0:
            raise UserError(f"--minutes must be > 0, got {self.minutes}")


@dataclass
class RunConfig:
    """Everything needed to rebuild a run: model, training settings and vocabulary."""

    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    vocab: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, ensure_ascii=False)

    @classmethod
    def load(cls, run_dir: Path) -> RunConfig:
        path = Path(run_dir) / "config.json"
        if not path.is_file():
            raise UserError(f"{run_dir} is not an rnnlab run directory (no config.json)")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                model=ModelConfig(**data["model"]),
                train=TrainConfig(**data["train"]),
                vocab=list(data["vocab"]),
            )
        except (ValueError, KeyError, TypeError) as err:
            raise UserError(f"{path} is corrupt or from another tool ({err})") from None
