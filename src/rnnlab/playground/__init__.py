"""The playground: a local web page to build, train and look inside recurrent networks.

``rnnlab playground`` serves it; :func:`make_app` is the ASGI app (Starlette), which a
test or another server can mount. Four pages: Neuron (the TensorFlow Playground's MLP,
Hebb/Oja, momentum), Recurrent (any cell on a task, trained live, with its hidden state,
gates and gradients through time), Spikes (LIF, Poisson trains, rate estimates) and
Text (sampling from trained char models).

>>> from rnnlab.playground import make_app
>>> app = make_app(runs_dir="runs", port=8765)
"""

from rnnlab.playground.app import make_app

__all__ = ["make_app"]
