"""Data for rnnlab: text corpora, character vocabularies, splits and TBPTT batches.

>>> from rnnlab.data import StreamBatches, Vocab, load_corpus
>>> corpus = load_corpus("hello")
>>> vocab = Vocab.from_text(corpus.text)
>>> x, y = StreamBatches(vocab.encode(corpus.text), batch_size=1, seq_len=4).get(0)
>>> vocab.decode(x[0]), vocab.decode(y[0])
('hell', 'ello')
"""

from rnnlab.data.batching import (
    SPLITS,
    DrawnBatches,
    SameBatch,
    ShuffledBatches,
    StreamBatches,
    eval_batches,
    split_fractions,
    split_ids,
)
from rnnlab.data.corpus import CORPUS_FORMAT, Corpus, default_cache_dir, load_corpus
from rnnlab.data.pycode import PYTHON_MAX_CHARS
from rnnlab.data.toy import HELLO, next_char_pairs
from rnnlab.data.vocab import MAX_VOCAB, Vocab

__all__ = [
    "CORPUS_FORMAT",
    "HELLO",
    "MAX_VOCAB",
    "PYTHON_MAX_CHARS",
    "SPLITS",
    "Corpus",
    "DrawnBatches",
    "SameBatch",
    "ShuffledBatches",
    "StreamBatches",
    "Vocab",
    "default_cache_dir",
    "eval_batches",
    "load_corpus",
    "next_char_pairs",
    "split_fractions",
    "split_ids",
]
