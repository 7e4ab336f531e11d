"""The progress of a training on stderr: a bar with the loss and the throughput, and a line
per evaluation (its validation numbers, and a text sample where the task makes one)."""

from __future__ import annotations


class Progress:
    """Turns the engine's events (``data``, ``start``, ``step``, ``eval``) into a rich bar."""

    def __enter__(self):
        from rich.console import Console

        self.console = Console(stderr=True)
        self.bar = self.task = None  # the bar starts with the training (errors come before)
        self.data = ""
        return self

    def _start(self, event: dict) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("step {task.completed:>6.0f}{task.fields[of]}"),
            BarColumn(),
            TextColumn("loss {task.fields[loss]}  {task.fields[rate]}"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
            # No refresh thread: the bar is drawn at each step's report (the only times it
            # changes), so no second thread writes to the console.
            auto_refresh=False,
        )
        self.bar.__enter__()
        steps = event["steps"]
        self.task = self.bar.add_task(
            "train", total=steps, completed=event["step"], loss="-", rate="",
            of="" if steps is None else f"/{steps}",
        )  # fmt: skip

    def report(self, event: dict) -> None:
        kind = event["event"]
        if kind == "data":  # printed when training starts, after the checkpoints are read
            self.data = f"task {event['task']}: {event['text']}; "
        elif kind == "start":
            self._start(event)
            self.console.print(
                f"{self.data}{event['devices']} device(s) x {event['processes']} process(es)",
                highlight=False, markup=False,
            )  # fmt: skip
        elif kind == "step":
            rate = next((f"{v:,.0f} {k.removesuffix('_per_s')}/s" for k, v in event.items()
                         if k.endswith("_per_s")), "")  # fmt: skip
            self.bar.update(self.task, completed=event["step"], loss=f"{event['loss']:.4f}",
                            rate=rate, refresh=True)  # fmt: skip
        elif kind == "eval":
            self.console.print(_eval_line(event), highlight=False)
        elif kind == "text":  # a line or a table as it is (an ESN fit, a search's trials)
            self.console.print(event["text"], highlight=False, markup=False, soft_wrap=True)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)


def _eval_line(event: dict) -> str:
    numbers = ", ".join(
        f"{k.removeprefix('val_').replace('_', ' ')} {v:.4f}"
        for k, v in event.items()
        if k.startswith("val_") and isinstance(v, int | float)
    )
    from rich.markup import escape

    line = escape(f"step {event['step']}: validation {numbers}")
    if "best" in event:
        line += f" (best {event['best']:.4f})"
    if "sample" in event:
        line += f"\n[dim]{escape(repr(event['sample']))}[/dim]"
    return line
