"""The data pipeline: from the corpus, or token lists, to batches.

`load_data_nmt` is d2l's function of the same name: the first pairs of the
corpus (`corpus`), preprocessed, tokenized and turned into arrays (`text`),
in mini-batches (`batching`), with both vocabularies. `build_data_iter` does
the same from token lists (a held-out split, or a synthetic task).
"""
from .batching import BatchIterator
from .checks import check_int, check_same_length
from .corpus import read_data_nmt
from .text import build_array_nmt, build_vocab, preprocess_nmt, tokenize_nmt


def build_data_iter(source, target, batch_size, num_steps, src_vocab=None,
                    tgt_vocab=None, shuffle=True, bucket=False, min_freq=2,
                    length_step=1):
    """Return `(data_iter, src_vocab, tgt_vocab)` for token lists.

    Vocabularies are built unless given. `bucket` and `length_step` batch
    sentences of similar lengths and cut the padding (see `BatchIterator`).
    """
    check_same_length('source', source, 'target', target)
    if not source:
        raise ValueError('source and target hold no sentences')
    num_steps = check_int('num_steps', num_steps, low=1)
    if src_vocab is None:
        src_vocab = build_vocab(source, min_freq)
    if tgt_vocab is None:
        tgt_vocab = build_vocab(target, min_freq)
    src_array, src_valid_len = build_array_nmt(source, src_vocab, num_steps)
    tgt_array, tgt_valid_len = build_array_nmt(target, tgt_vocab, num_steps)
    arrays = (src_array, src_valid_len, tgt_array, tgt_valid_len)
    data_iter = BatchIterator(arrays, batch_size, shuffle, bucket, length_step)
    return data_iter, src_vocab, tgt_vocab


def load_data_nmt(batch_size, num_steps, num_examples=600, path=None,
                  bucket=False):
    """Return `(data_iter, src_vocab, tgt_vocab)` for the first pairs."""
    num_examples = check_int('num_examples', num_examples, low=1)
    source, target = tokenize_nmt(preprocess_nmt(read_data_nmt(path)),
                                  num_examples)
    return build_data_iter(source, target, batch_size, num_steps, bucket=bucket)
