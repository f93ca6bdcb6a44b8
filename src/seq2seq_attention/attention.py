"""Attention: masked softmax, additive (MLP / Bahdanau) and scaled dot-product (Luong) attention.

An attention layer takes queries `(batch_size, num_queries, query_size)`, keys
`(batch_size, num_keys, key_size)` and values `(batch_size, num_keys, value_size)` and returns
`(batch_size, num_queries, value_size)`: for each query, a weighted average of the values whose
weights come from a softmax over the query's scores against every key. `valid_lens` says how
many keys each example (1-D, `(batch_size,)`) or each query (2-D, `(batch_size, num_queries)`)
may look at; keys beyond it are padding and get weight exactly 0.
"""
import math

from mxnet import np, npx
from mxnet.gluon import nn


def check_valid_lens(valid_lens, batch_size, num_queries, num_keys):
    """Raise a clear error unless `valid_lens` is 1-D or 2-D, of matching shape, within [1, num_keys]."""
    if not hasattr(valid_lens, 'shape'):
        raise TypeError(f'valid_lens must be an array, got {type(valid_lens).__name__}')
    if valid_lens.shape not in ((batch_size,), (batch_size, num_queries)):
        raise ValueError(f'valid_lens has shape {valid_lens.shape}, expected ({batch_size},) '
                         f'or ({batch_size}, {num_queries})')
    if valid_lens.size:
        low, high = float(valid_lens.min()), float(valid_lens.max())
        if low < 1 or high > num_keys:
            raise ValueError(f'valid_lens must lie in [1, {num_keys}] (the number of keys), '
                             f'got values from {low:g} to {high:g}')


def masked_softmax(X, valid_lens):
    """Softmax over the last axis of `X` (3-D), giving weight 0 to positions beyond `valid_lens`."""
    if X.ndim != 3:
        raise ValueError(f'X must be 3-D (batch_size, num_queries, num_keys), got shape {X.shape}')
    if valid_lens is None:
        return npx.softmax(X)
    batch_size, num_queries, num_keys = X.shape
    check_valid_lens(valid_lens, batch_size, num_queries, num_keys)
    if valid_lens.ndim == 1:
        valid_lens = valid_lens.repeat(num_queries)  # (batch_size * num_queries,)
    else:
        valid_lens = valid_lens.reshape(-1)  # (batch_size * num_queries,)
    # Replace masked scores by a very large negative value, whose exponential is exactly 0
    X = npx.sequence_mask(X.reshape(-1, num_keys), valid_lens.astype(X.dtype), True,
                          value=-1e6, axis=1)  # (batch_size * num_queries, num_keys)
    return npx.softmax(X).reshape(batch_size, num_queries, num_keys)


class MLPAttention(nn.Block):
    """Additive attention: score(q, k) = w_v^T tanh(W_q q + W_k k)."""

    def __init__(self, num_hiddens, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        # flatten=False transforms only the last axis, keeping the others
        self.W_k = nn.Dense(num_hiddens, use_bias=False, flatten=False)
        self.W_q = nn.Dense(num_hiddens, use_bias=False, flatten=False)
        self.w_v = nn.Dense(1, use_bias=False, flatten=False)
        self.dropout = nn.Dropout(dropout)
        self.attention_weights = None

    def forward(self, queries, keys, values, valid_lens=None):
        """Return the attention-weighted values, `(batch_size, num_queries, value_size)`."""
        queries, keys = self.W_q(queries), self.W_k(keys)
        # Broadcast-add every query to every key:
        # (batch_size, num_queries, 1, num_hiddens) + (batch_size, 1, num_keys, num_hiddens)
        features = np.tanh(np.expand_dims(queries, axis=2) + np.expand_dims(keys, axis=1))
        # (batch_size, num_queries, num_keys, 1) -> (batch_size, num_queries, num_keys)
        scores = np.squeeze(self.w_v(features), axis=-1)
        self.attention_weights = masked_softmax(scores, valid_lens)
        # (batch_size, num_queries, num_keys) x (batch_size, num_keys, value_size)
        return npx.batch_dot(self.dropout(self.attention_weights), values)


AdditiveAttention = MLPAttention  # the name d2l 1.0 uses


class DotProductAttention(nn.Block):
    """Scaled dot-product attention: score(q, k) = q^T k / sqrt(d); queries and keys share size d."""

    def __init__(self, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.dropout = nn.Dropout(dropout)
        self.attention_weights = None

    def forward(self, queries, keys, values, valid_lens=None):
        """Return the attention-weighted values, `(batch_size, num_queries, value_size)`."""
        d = queries.shape[-1]
        if keys.shape[-1] != d:
            raise ValueError(f'queries and keys must have the same size, got {d} and '
                             f'{keys.shape[-1]}')
        # (batch_size, num_queries, d) x (batch_size, d, num_keys) -> (batch_size, num_queries, num_keys)
        scores = npx.batch_dot(queries, keys, transpose_b=True) / math.sqrt(d)
        self.attention_weights = masked_softmax(scores, valid_lens)
        # (batch_size, num_queries, num_keys) x (batch_size, num_keys, value_size)
        return npx.batch_dot(self.dropout(self.attention_weights), values)
