"""``--task motions``: BasicMotions, four activities from a smartwatch (many-to-one).

Four students wore a watch while standing, walking, running and playing badminton;
each series is 10 s at 10 Hz (100 steps) of 3-D accelerometer and 3-D gyroscope (6
channels). The official split is 40 train / 40 test, 10 series per class in each; a
fixed tenth of the training series picks the best checkpoint.
"""

from rnnlab.tasks import _aeon
from rnnlab.tasks._supervised import SupervisedTask
from rnnlab.tasks.registry import register


@register
class Motions(SupervisedTask):
    name = "motions"
    models = ("rnn", "window-mlp", "conv1d", "transformer", "esn")
    pattern = "many-to-one"
    source = "aeon BasicMotions: 40 train / 40 test series, 100 steps x 6 channels"

    def load_data(self, config):
        return _aeon.official("BasicMotions")
