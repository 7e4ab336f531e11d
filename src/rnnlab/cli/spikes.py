"""``rnnlab spikes demo`` and ``rnnlab spikes rate``: spike trains and firing rates."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from rnnlab.errors import UserError

app = typer.Typer(
    help="Spike trains and firing rates: LIF neuron, Poisson trains, PSTH, kernel rates.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Opt = typer.Option


def _out_dir(out: Path) -> Path:
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} exists and is not a directory; give a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create --out {out}: {err.strerror}") from None
    return out


@app.command()
def demo(
    out: Annotated[Path, Opt("--out", help="Directory for the PNG figures (created).")],
    seed: Annotated[int, Opt(help="Random seed of the simulated spike trains.")] = 0,
):
    """Write the lecture's figures: rate estimates, LIF f-I curve, grasshopper data."""
    from rnnlab.spikes import plot_grasshopper, plot_lif_fi, plot_rate_estimates, save_figure

    out = _out_dir(out)
    figures = {
        "rate_estimates.png": lambda: plot_rate_estimates(seed=seed),
        "lif_fi_curve.png": plot_lif_fi,
        "grasshopper_rates.png": plot_grasshopper,
    }
    for name, make in figures.items():
        path = save_figure(make(), out / name)
        typer.echo(str(path))


def _parse_sigma(sigma: str) -> float | str:
    if sigma.strip().lower() == "auto":
        return "auto"
    try:
        return float(sigma)
    except ValueError:
        raise UserError(f"--sigma must be 'auto' or a number of seconds, got {sigma!r}") from None


def _write_csv(path: Path, text: str) -> None:
    """Never a half-written CSV: the one atomic writer (temporary file, then rename)."""
    from rnnlab.engine.io import write_text

    if path.is_dir():
        raise UserError(f"--out {path} is a directory; give a file name")
    if not path.parent.is_dir():
        raise UserError(f"--out {path}: directory {path.parent} does not exist")
    write_text(path, text)


_KERNEL_HELP = "gaussian | rectangular | triangular | epanechnikov | exponential | alpha"
_SIGMA_HELP = "Kernel std (s), or 'auto': Shimazaki-Shinomoto 2010 bandwidth (Gaussian only)."


@app.command()
def rate(
    file: Annotated[Path, typer.Argument(help="Spike times: one trial per line, in seconds.")],
    kernel: Annotated[str, Opt(help=_KERNEL_HELP)] = "gaussian",
    sigma: Annotated[str, Opt(help=_SIGMA_HELP)] = "auto",
    sampling_period: Annotated[float, Opt(help="Time step of the output (s).")] = 0.001,
    t_start: Annotated[float, Opt(help="Start of the window (s).")] = 0.0,
    t_stop: Annotated[float | None, Opt(help="End of the window (s); default: last spike.")] = None,
    out: Annotated[Path | None, Opt("--out", help="CSV file to write; default: stdout.")] = None,
):
    """Trial-averaged firing rate (time,rate in 1/s) of the spike trains in FILE, as CSV."""
    from rnnlab.spikes import instantaneous_rate, read_spike_times

    trains = read_spike_times(file)
    times, r = instantaneous_rate(
        trains,
        sampling_period,
        kernel=kernel,
        sigma=_parse_sigma(sigma),
        t_start=t_start,
        t_stop=t_stop,
        pool=True,
    )
    # repr() is the shortest text that reads back as the same float64: exact values.
    rows = zip(times.tolist(), r.tolist(), strict=True)
    text = "time,rate\n" + "".join(f"{t!r},{v!r}\n" for t, v in rows)
    if out is None:
        sys.stdout.write(text)
    else:
        _write_csv(out, text)
