"""The character-level language model (Karpathy's char-rnn in JAX): the network, its loss,
sampling and scoring. Training, evaluation and the run directory are the ``charlm`` task's
(:mod:`rnnlab.tasks.charlm`): ``rnnlab train`` (its default task), ``sample``, ``eval``.

>>> from rnnlab.charlm import CharLM, ModelConfig, lm_loss, sample, evaluate
"""

from rnnlab.charlm.model import CharLM, lm_loss
from rnnlab.charlm.sample import evaluate, sample
from rnnlab.config import ModelConfig  # what a CharLM is built from (re-exported)

__all__ = ["CharLM", "ModelConfig", "evaluate", "lm_loss", "sample"]
