"""Seeing inside a recurrent network: interpretable cells, gate saturation, gradients
through time, as arrays, figures and a self-contained HTML page (``rnnlab inspect``).

>>> from rnnlab.inspect import detect, correlations
>>> d = detect('x = "a(b)"\\n')
>>> d["quote"].tolist()[4:10], d["brackets"].tolist()[6:9]
([1.0, 1.0, 1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 0.0])
"""

from rnnlab.inspect._charlm import (
    CharlmInspection,
    inspect_charlm,
    run_text,
    write_charlm_page,
)
from rnnlab.inspect._detectors import DETECTORS, detect
from rnnlab.inspect._figures import context_png, grad_time_png, saturation_png, signal_png
from rnnlab.inspect._finder import GATES, Found, correlations, find_cells, saturation
from rnnlab.inspect._page import page_data, quantise, render_page, safe_json
from rnnlab.inspect._tasks import write_task_figures
from rnnlab.inspect._trace import (
    Trace,
    charlm_grad_norms,
    trace_charlm,
    trace_rnn,
)

__all__ = [
    "DETECTORS",
    "GATES",
    "CharlmInspection",
    "Found",
    "Trace",
    "charlm_grad_norms",
    "context_png",
    "correlations",
    "detect",
    "find_cells",
    "grad_time_png",
    "inspect_charlm",
    "page_data",
    "quantise",
    "render_page",
    "run_text",
    "safe_json",
    "saturation",
    "saturation_png",
    "signal_png",
    "trace_charlm",
    "trace_rnn",
    "write_charlm_page",
    "write_task_figures",
]
