"""``--task tag``: your own sequences with one label per step (synced many-to-many)."""

from rnnlab.tasks._npz import NpzOptions, load_npz
from rnnlab.tasks._supervised import SupervisedTask
from rnnlab.tasks.registry import register


@register
class Tag(SupervisedTask):
    """``--data FILE.npz`` with ``x`` (N, T, D), ``y`` (N, T), optional ``lengths``, ``split``."""

    name = "tag"
    pattern = "synced many-to-many"
    source = "your --data FILE.npz: x (N, T, D), y (N, T), lengths (N,); 80/10/10"
    head = "tag"
    models = ("rnn", "transformer", "esn")
    windowed = ()
    baseline = "majority tag"
    Options = NpzOptions

    def load_data(self, config):
        return load_npz(config.options.data, tagged=True)
