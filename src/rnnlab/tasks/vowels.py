"""``--task vowels``: JapaneseVowels, which of 9 speakers uttered /ae/ (many-to-one).

Each series is 7 to 29 frames of 12 LPC cepstral coefficients (variable length: the
model reads each row up to its ``lengths``). The official split is 270 train (30 per
speaker) / 370 test; a fixed tenth of the training series picks the best checkpoint.
"""

from rnnlab.tasks import _aeon
from rnnlab.tasks._supervised import SupervisedTask
from rnnlab.tasks.registry import register


@register
class Vowels(SupervisedTask):
    name = "vowels"
    models = ("rnn", "window-mlp", "conv1d", "transformer", "esn")
    pattern = "many-to-one (variable length)"
    source = "aeon JapaneseVowels: 270 train / 370 test series, 7-29 steps x 12 channels"

    def load_data(self, config):
        return _aeon.official("JapaneseVowels")
