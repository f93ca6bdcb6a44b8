"""Sequence-to-sequence learning with attention on Apache MXNet (Gluon, NumPy interface).

The library behind the book: data (`data`), attention (`attention`), encoder/decoder models
(`models`), training (`training`), decoding and BLEU (`decoding`), checkpoints (`checkpoint`)
and the book's figures (`plotting`).
"""
from mxnet import npx

npx.set_np()  # every module here uses MXNet's NumPy interface

from .attention import (AdditiveAttention, DotProductAttention, MLPAttention,  # noqa: E402
                        masked_softmax)
from .data import (BatchIterator, CorpusError, CorpusNotFoundError, ShardedBatches, Vocab,  # noqa: E402
                   build_array_nmt, build_data_iter, build_vocab, load_data_nmt,
                   locate_corpus, preprocess_nmt, read_data_nmt, split_pairs, tokenize_nmt,
                   truncate_pad)
from .models import (AttentionDecoder, Decoder, Encoder, EncoderDecoder,  # noqa: E402
                     Seq2SeqAttentionDecoder, Seq2SeqDecoder, Seq2SeqEncoder, build_seq2seq)
from .utils import set_seed, try_all_gpus, try_gpu  # noqa: E402
