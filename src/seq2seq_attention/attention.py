"""Attention: masked softmax, additive (Bahdanau), scaled dot-product (Luong).

Additive attention is also called MLP attention. An attention layer takes
queries `(batch_size, num_queries, query_size)`, keys
`(batch_size, num_keys, key_size)` and values
`(batch_size, num_keys, value_size)` and returns
`(batch_size, num_queries, value_size)`: for each query, a weighted average of
the values whose weights come from a softmax over the query's scores against
every key. `valid_lens` says how many keys each example (1-D, `(batch_size,)`)
or each query (2-D, `(batch_size, num_queries)`) may look at; keys beyond it
are padding and get weight exactly 0.
"""
import mxnet as mx
from mxnet.gluon import nn

from .checks import check_whole_numbers


def check_valid_lens(valid_lens, batch_size, num_queries, num_keys,
                     check_values=True):
    """Raise a clear error unless `valid_lens` is well formed.

    It must be 1-D or 2-D, of matching shape, within [1, num_keys]. Checking
    the values waits for them to be computed; `check_values=False` checks the
    shape only.
    """
    if not hasattr(valid_lens, 'shape'):
        raise TypeError(f'valid_lens must be an array, '
                        f'got {type(valid_lens).__name__}')
    if valid_lens.shape not in ((batch_size,), (batch_size, num_queries)):
        raise ValueError(f'valid_lens has shape {valid_lens.shape}, expected '
                         f'({batch_size},) or ({batch_size}, {num_queries})')
    if check_values:
        # whole numbers from 1 to the number of keys (NaN is refused too)
        check_whole_numbers('valid_lens', valid_lens, 1, num_keys)


def check_scores(X, valid_lens):
    """Raise unless `X` is 3-D and `valid_lens` fits it (arrays only)."""
    if X.ndim != 3:
        raise ValueError(f'X must be 3-D (batch_size, num_queries, num_keys), '
                         f'got shape {X.shape}')
    check_valid_lens(valid_lens, *X.shape)


def masked_softmax(X, valid_lens):
    """Softmax over the last axis of `X` (3-D), weight 0 beyond `valid_lens`."""
    F = mx.sym if isinstance(X, mx.sym.Symbol) else mx.nd  # in a graph or not
    if valid_lens is None:
        return F.npx.softmax(X)
    if F is mx.nd:
        check_scores(X, valid_lens)
        if valid_lens.ndim == 2:  # a length per query: one query per example
            return masked_softmax(X.reshape(-1, 1, X.shape[2]),
                                  valid_lens.reshape(-1)).reshape(X.shape)
    # sequence_mask masks along axis 1: put the keys there,
    # (batch_size, num_queries, num_keys) -> (batch_size, num_keys, num_queries)
    X = F.np.swapaxes(X, 1, 2)
    # masked scores become -1e6, whose exponential is exactly 0
    X = F.npx.sequence_mask(X, valid_lens, True, value=-1e6, axis=1)
    # (batch_size, num_keys, num_queries) -> (batch_size, num_queries, num_keys)
    return F.npx.softmax(F.np.swapaxes(X, 1, 2))


class Identity(nn.HybridBlock):
    """A block that returns its input (Gluon's `Dropout(0)` copies it)."""

    def hybrid_forward(self, F, X):
        """Return `X` itself."""
        return X


def add_each_query_to_each_key(F, queries, keys):
    """Every query plus every key: `(batch, queries, keys, num_hiddens)`.

    What broadcasting computes from (batch_size, num_queries, 1, num_hiddens)
    and (batch_size, 1, num_keys, num_hiddens), with the queries repeated over
    the keys by a product with a column of ones: its gradient, a sum over the
    keys, is then a matrix product, where broadcasting's backward is a slow
    reduction on the CPU (10% of the chapter's training time,
    bench/RESULTS.md).
    """
    # (batch_size, 1, num_keys, 1)
    ones = F.np.expand_dims(F.np.ones_like(keys[:, :, :1]), axis=1)
    # (batch_size, 1, num_keys, 1) x (batch_size, num_queries, 1, num_hiddens)
    # -> (batch_size, num_queries, num_keys, num_hiddens)
    repeated = F.np.matmul(ones, F.np.expand_dims(queries, axis=2))
    return repeated + F.np.expand_dims(keys, axis=1)


def make_dropout(rate):
    """Gluon's `Dropout`, or an `Identity` at rate 0."""
    return nn.Dropout(rate) if rate > 0 else Identity()


class MLPAttention(nn.HybridBlock):
    """Additive attention: score(q, k) = w_v^T tanh(W_q q + W_k k)."""

    def __init__(self, num_hiddens, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        # flatten=False transforms only the last axis, keeping the others
        self.W_k = nn.Dense(num_hiddens, use_bias=False, flatten=False)
        self.W_q = nn.Dense(num_hiddens, use_bias=False, flatten=False)
        self.w_v = nn.Dense(1, use_bias=False, flatten=False)
        self.dropout = make_dropout(dropout)
        self.attention_weights = None

    def forward(self, queries, keys, values, valid_lens=None):
        """Return the attention-weighted values; keep the weights."""
        output, self.attention_weights = super().forward(queries, keys, values,
                                                         valid_lens)
        return output  # (batch_size, num_queries, value_size)

    def hybrid_forward(self, F, queries, keys, values, valid_lens=None):
        """Return the attention-weighted values and the attention weights."""
        return self.attend(F, queries, self.project_keys(keys), values,
                           valid_lens)

    def project_keys(self, keys):
        """W_k k, `(batch_size, num_keys, num_hiddens)`: once per sentence."""
        return self.W_k(keys)

    def attend(self, F, queries, keys, values, valid_lens=None):
        """Attend with keys already projected by `project_keys`."""
        queries = self.W_q(queries)  # (batch_size, num_queries, num_hiddens)
        # Every query plus every key, as broadcasting adds them (faster):
        # (batch_size, num_queries, num_keys, num_hiddens)
        features = add_each_query_to_each_key(F, queries, keys)
        features = F.npx.activation(features, act_type='tanh')  # np.tanh/3
        # (batch_size, num_queries, num_keys, 1)
        # -> (batch_size, num_queries, num_keys)
        scores = F.np.squeeze(self.w_v(features), axis=-1)
        attention_weights = masked_softmax(scores, valid_lens)
        # (batch_size, num_queries, num_keys) x
        # (batch_size, num_keys, value_size)
        return (F.npx.batch_dot(self.dropout(attention_weights), values),
                attention_weights)


AdditiveAttention = MLPAttention  # the name d2l 1.0 uses


class DotProductAttention(nn.HybridBlock):
    """Scaled dot-product attention: score(q, k) = q^T k / sqrt(d)."""

    def __init__(self, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.dropout = make_dropout(dropout)
        self.attention_weights = None

    def forward(self, queries, keys, values, valid_lens=None):
        """Return the attention-weighted values; keep the weights."""
        if (not isinstance(queries, mx.sym.Symbol)
                and queries.shape[-1] != keys.shape[-1]):
            raise ValueError(f'queries and keys must have the same size, got '
                             f'{queries.shape[-1]} and {keys.shape[-1]}')
        output, self.attention_weights = super().forward(queries, keys, values,
                                                         valid_lens)
        return output  # (batch_size, num_queries, value_size)

    def hybrid_forward(self, F, queries, keys, values, valid_lens=None):
        """Return the attention-weighted values and the attention weights."""
        return self.attend(F, queries, keys, values, valid_lens)

    def project_keys(self, keys):
        """The keys as `attend` takes them: unchanged (nothing is learnt)."""
        return keys

    def attend(self, F, queries, keys, values, valid_lens=None):
        """Return the attention-weighted values and the attention weights."""
        # sqrt(d), computed from the data so that it works in a hybridized
        # graph too: (batch_size, num_queries, 1)
        sqrt_d = F.np.sqrt(F.np.ones_like(queries).sum(axis=-1, keepdims=True))
        # (batch_size, num_queries, d) x (batch_size, d, num_keys)
        # -> (batch_size, num_queries, num_keys)
        scores = F.npx.batch_dot(queries, keys, transpose_b=True) / sqrt_d
        attention_weights = masked_softmax(scores, valid_lens)
        # (batch_size, num_queries, num_keys) x
        # (batch_size, num_keys, value_size)
        return (F.npx.batch_dot(self.dropout(attention_weights), values),
                attention_weights)
