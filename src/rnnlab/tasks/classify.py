"""``--task classify``: your own labelled sequences, one class per sequence (many-to-one)."""

from rnnlab.tasks._npz import NpzOptions, load_npz
from rnnlab.tasks._supervised import SupervisedTask
from rnnlab.tasks.registry import register


@register
class Classify(SupervisedTask):
    """``--data FILE.npz`` with ``x`` (N, T, D), ``y`` (N,), optional ``lengths``, ``split``."""

    name = "classify"
    models = ("rnn", "window-mlp", "conv1d", "transformer", "esn")
    pattern = "many-to-one"
    source = "your --data FILE.npz: x (N, T, D), y (N,), lengths (N,); 80/10/10"
    Options = NpzOptions

    def load_data(self, config):
        return load_npz(config.options.data, tagged=False)
