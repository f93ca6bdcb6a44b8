"""Seq2seq learning with attention on Apache MXNet (Gluon, NumPy interface).

The library behind the book, one idea per module (the README has the map):
the data (`corpus`, `text`, `batching`, `data`), the models (`attention`,
`graphs`, `models`), training (`loss`, `optim`, `resume`, `training`), using
a model (`decoding`, `metrics`, `checkpoint`), experiments (`subsets`,
`synthetic`, `experiment`), the command line (`cli`) and the book's pages
(`plotting`, `notebook`).

Importing it first prepares MXNet 1.9.1 for today's Python stacks before MXNet
is loaded: NumPy names and `distutils` that MXNet still reads (`compat`), the
same CPU kernels on every machine (`cpu`), freed memory kept for reuse
(`memory`), and the CUDA 11 libraries of its GPU build from pip wheels
(`cuda`).
"""
from .compat import (ensure_distutils, plain_operator_parameters,
                     restore_numpy_names)
from .cpu import pin_cpu_kernels
from .cuda import load_cuda_libraries
from .memory import keep_freed_memory

restore_numpy_names()
ensure_distutils()
pin_cpu_kernels()
keep_freed_memory()
load_cuda_libraries()

try:
    from mxnet import npx
except ModuleNotFoundError as e:
    if e.name != 'mxnet':
        raise
    raise ModuleNotFoundError(
        'MXNet is not installed. Install it and d2l without their '
        'dependencies, whose pins are stale (README, "Three stacks"): '
        'pip install --no-deps -r requirements-mxnet.txt, '
        'or pip install --no-deps mxnet==1.9.1 d2l==1.0.3',
        name='mxnet') from None

plain_operator_parameters()  # NumPy 2 writes np.int64(4) where MXNet expects 4
npx.set_np()  # every module here uses MXNet's NumPy interface

from .attention import (AdditiveAttention, DotProductAttention,  # noqa: E402
                        MLPAttention, masked_softmax)
from .batching import Batches, BatchIterator, ShardedBatches  # noqa: E402
from .corpus import (CorpusError, CorpusNotFoundError,  # noqa: E402
                     locate_corpus, read_data_nmt)
from .data import build_data_iter, load_data_nmt  # noqa: E402
from .models import (DECODERS, AttentionDecoder,  # noqa: E402
                     BidirectionalEncoder, Decoder, Encoder, EncoderDecoder,
                     Seq2SeqAttentionDecoder, Seq2SeqConfig, Seq2SeqDecoder,
                     Seq2SeqEncoder, build_seq2seq)
from .text import (Vocab, build_array_nmt, build_vocab,  # noqa: E402
                   preprocess_nmt, split_pairs, tokenize_nmt, truncate_pad)
from .utils import set_seed, try_all_gpus, try_gpu  # noqa: E402

__all__ = [
    'AdditiveAttention', 'AttentionDecoder', 'BatchIterator', 'Batches',
    'BidirectionalEncoder',
    'CorpusError', 'CorpusNotFoundError', 'DECODERS', 'Decoder',
    'DotProductAttention', 'Encoder', 'EncoderDecoder', 'MLPAttention',
    'Seq2SeqAttentionDecoder', 'Seq2SeqConfig', 'Seq2SeqDecoder',
    'Seq2SeqEncoder', 'ShardedBatches', 'Vocab', 'build_array_nmt',
    'build_data_iter', 'build_seq2seq', 'build_vocab', 'load_data_nmt',
    'locate_corpus', 'masked_softmax', 'preprocess_nmt', 'read_data_nmt',
    'set_seed', 'split_pairs', 'tokenize_nmt', 'truncate_pad', 'try_all_gpus',
    'try_gpu',
]
