"""Models built from :class:`rnnlab.RNN`: one per input/output pattern of the lecture.

>>> import jax, jax.numpy as jnp
>>> from rnnlab.models import SequenceClassifier
>>> net = SequenceClassifier(3, 4, hidden=8, key=jax.random.key(0))
>>> net(jnp.ones((2, 5, 3)), jnp.array([5, 2])).shape
(2, 4)
"""

from rnnlab.models._baselines import Conv1D, LastStep, WindowMLP, masked_mean, windows
from rnnlab.models._embed import Embedded
from rnnlab.models._sequence import SequenceClassifier, SequenceTagger, last_valid
from rnnlab.models._transformer import CausalTransformer, TransformerEncoder
from rnnlab.models._window_lm import WINDOW_MODELS, WindowLM

__all__ = [
    "CausalTransformer",
    "Conv1D",
    "Embedded",
    "LastStep",
    "SequenceClassifier",
    "SequenceTagger",
    "TransformerEncoder",
    "WINDOW_MODELS",
    "WindowLM",
    "WindowMLP",
    "last_valid",
    "masked_mean",
    "windows",
]
