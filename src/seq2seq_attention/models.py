"""Encoder–decoder models: the interfaces, the LSTM encoder, the two decoders.

`Seq2SeqDecoder` is the baseline: it sees the source only through the encoder's
final state and its last output (the same "context" at every step).
`Seq2SeqAttentionDecoder` instead attends, at every step, over the encoder
outputs of all source positions, using the decoder's hidden state of the
previous step as the query (Bahdanau et al., 2015).

Every block here is a `HybridBlock`: `hybridize()` compiles its forward pass,
the loop over time steps unrolled, into one static graph (a large speed-up on
small models, where running the operators one by one from Python costs more
than computing them). A graph is built for one number of time steps;
`SequenceBlock` keeps the graphs of the lengths in use (at most `max_graphs`).
"""
import collections

import mxnet as mx
from mxnet import autograd, np
from mxnet.gluon import nn, rnn

from .attention import DotProductAttention, MLPAttention, check_valid_lens
from .checks import (check_choice, check_float, check_int, check_token_ids,
                     embedded_vocab_size)

# What a HybridBlock keeps of its compiled graph (MXNet 1.9 Gluon)
_GRAPH_ATTRS = ('_cached_graph', '_cached_op', '_cached_op_args', '_in_format',
                '_out_format')


class SequenceBlock(nn.HybridBlock):
    """A `HybridBlock` whose `hybrid_forward` loops over `num_steps` steps.

    Called on arrays, `num_steps` is read from the input's second axis. Inside a
    parent's graph the inputs are symbols without shapes, so the parent sets it
    (`use_num_steps`). A compiled graph unrolls the loop for one length:
    switching lengths (say, training on 10 steps, then decoding one step at a
    time) keeps each compiled graph and builds the new one only once. At most
    `max_graphs` graphs are kept, the most recently used: each holds memory
    (with `static_alloc`, all its arrays), and bucketed data can bring hundreds
    of lengths.
    """
    max_graphs = 16

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.num_steps, self._graphs = None, collections.OrderedDict()

    def use_num_steps(self, num_steps):
        """Loop over `num_steps` steps from now on (with their graph)."""
        if num_steps == self.num_steps:
            return
        saved = self._graphs.pop(num_steps, None)
        self._graphs[self.num_steps] = tuple(getattr(self, a)
                                             for a in _GRAPH_ATTRS)
        while len(self._graphs) >= self.max_graphs:  # drop the least recent
            self._graphs.popitem(last=False)
        if saved is None:
            nn.HybridBlock._clear_cached_op(self)
        else:
            for attr, value in zip(_GRAPH_ATTRS, saved):
                setattr(self, attr, value)
        self.num_steps = num_steps

    def _clear_cached_op(self):
        """Drop every compiled graph (when hybridization changes)."""
        super()._clear_cached_op()
        self._graphs = collections.OrderedDict()

    def run(self, X, *args):
        """Run `hybrid_forward` over the time steps of `X`."""
        if not isinstance(X, mx.sym.Symbol):
            self.use_num_steps(X.shape[1])
        return nn.HybridBlock.forward(self, X, *args)


class Encoder(SequenceBlock):
    """The encoder interface: maps a source batch to encoder outputs."""

    def forward(self, X, *args):
        """Encode `X`; extra arguments (valid lengths) are for subclasses."""
        raise NotImplementedError


class Decoder(SequenceBlock):
    """The decoder interface: a state built from the encoder, then steps."""

    def init_state(self, enc_outputs, *args):
        """Turn the encoder outputs into the decoder's initial state."""
        raise NotImplementedError

    def forward(self, X, state):
        """Decode `X` from `state`; return the outputs and the new state."""
        raise NotImplementedError

    def reorder_state(self, state, indices):
        """Pick the batch entries `indices` of `state` (for beam search)."""
        raise NotImplementedError


class AttentionDecoder(Decoder):
    """The interface of a decoder with attention: its weights can be read."""

    @property
    def attention_weights(self):
        """The attention weights of the last call."""
        raise NotImplementedError


class EncoderDecoder(SequenceBlock):
    """An encoder and a decoder trained together; returns the scores."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, enc_X, dec_X, enc_valid_lens=None):
        """Return the scores `(batch_size, num_steps, vocab_size)`."""
        if not isinstance(enc_X, mx.sym.Symbol):
            _check_tokens('enc_X', enc_X, self.encoder)
            _check_tokens('dec_X', dec_X, self.decoder)
            if enc_valid_lens is None:
                enc_valid_lens = _all_valid_lens(enc_X)
            check_valid_lens(enc_valid_lens, enc_X.shape[0], 1, enc_X.shape[1],
                             check_values=not autograd.is_recording())
            # one compiled graph per (source length, target length)
            self.use_num_steps((enc_X.shape[1], dec_X.shape[1]))
            self.encoder.use_num_steps(enc_X.shape[1])
            self.decoder.use_num_steps(dec_X.shape[1])
        return nn.HybridBlock.forward(self, enc_X, dec_X, enc_valid_lens)

    def hybrid_forward(self, F, enc_X, dec_X, enc_valid_lens):
        """Encode, initialise the decoder's state, decode."""
        enc_outputs = self.encoder(enc_X, enc_valid_lens)
        dec_state = self.decoder.init_state(enc_outputs, enc_valid_lens)
        return self.decoder(dec_X, dec_state)[0]


def _all_valid_lens(X):
    """Valid lengths without padding: `X.shape[1]` per example."""
    return np.full((X.shape[0],), X.shape[1], dtype='int32', ctx=X.ctx)


def _check_tokens(name, X, block):
    """Raise unless `X` is a 2-D batch of indices into `block`'s embedding.

    (MXNet would clip an index out of range.) The values are checked outside
    training only: in training they come from the data, which `train_s2s`
    checks once.
    """
    check_token_ids(name, X, None if autograd.is_recording()
                    else embedded_vocab_size(block))


class StackedLSTM(nn.HybridBlock):
    """A multi-layer LSTM with dropout between its layers, layer by layer.

    MXNet 1.9's CPU LSTM (oneDNN) ignores its `dropout` argument: training would
    silently run without it. This block takes and returns what
    `rnn.LSTM(num_hiddens, num_layers)` does.
    """

    def __init__(self, num_hiddens, num_layers, dropout, **kwargs):
        super().__init__(**kwargs)
        self.num_layers = num_layers
        self.layers = nn.HybridSequential()
        for _ in range(num_layers):
            self.layers.add(rnn.LSTM(num_hiddens))
        self.dropout = nn.Dropout(dropout)

    def hybrid_forward(self, F, X, state):
        """Run the layers; return the top layer's outputs and new `[h, c]`.

        X: (num_steps, batch_size, input_size); state: `[h, c]`, each
        (num_layers, batch_size, num_hiddens).
        """
        # (num_layers, batch_size, num_hiddens)
        # -> num_layers x (1, batch_size, num_hiddens)
        hs = F.np.split(state[0], self.num_layers, axis=0)
        cs = F.np.split(state[1], self.num_layers, axis=0)
        for i, layer in enumerate(self.layers):
            if i > 0:
                X = self.dropout(X)
            X, (hs[i], cs[i]) = layer(X, [hs[i], cs[i]])
        # num_layers x (1, batch_size, num_hiddens)
        # -> (num_layers, batch_size, num_hiddens)
        return X, [F.np.concatenate(hs, axis=0), F.np.concatenate(cs, axis=0)]


def make_embedding(vocab_size, embed_size):
    """A token embedding that starts from N(0, 1), as PyTorch's does.

    Its own initializer wins over the one `initialize` is given: Xavier would
    draw it within +-sqrt(6 / (vocab_size + embed_size)), about +-0.16 for the
    chapters' vocabularies, and from inputs that small the LSTMs learn slower
    (d2l's PyTorch edition, with N(0, 1), ends its 200 epochs lower).
    """
    return nn.Embedding(vocab_size, embed_size,
                        weight_initializer=mx.init.Normal(1.0))


def make_lstm(num_hiddens, num_layers, dropout):
    """Gluon's LSTM, or a `StackedLSTM` for dropout between layers."""
    if dropout > 0 and num_layers > 1:
        return StackedLSTM(num_hiddens, num_layers, dropout)
    return rnn.LSTM(num_hiddens, num_layers)


class Seq2SeqEncoder(Encoder):
    """The RNN encoder: token embeddings fed through a multi-layer LSTM.

    Each sequence's final state is the LSTM state after its last valid token,
    and the outputs at padded positions are 0, so whatever tokens fill the
    padding change nothing downstream. (Gluon's `use_sequence_length` would do
    this in one call, but MXNet's CPU kernel ignores it; so the encoder advances
    the LSTM one step at a time and keeps every step's state.)
    """

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers,
                 dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_hiddens, self.num_layers = num_hiddens, num_layers
        self.embedding = make_embedding(vocab_size, embed_size)
        self.rnn = make_lstm(num_hiddens, num_layers, dropout)

    def forward(self, X, valid_lens=None, *args):
        """Return all steps' outputs and every layer's final `[h, c]` state."""
        if not isinstance(X, mx.sym.Symbol):
            _check_tokens('X', X, self)
            batch_size, num_steps = X.shape
            if valid_lens is None:
                valid_lens = _all_valid_lens(X)
            # (values are checked outside training; in training they come from
            # the data pipeline)
            check_valid_lens(valid_lens, batch_size, 1, num_steps,
                             check_values=not autograd.is_recording())
        outputs, h, c = self.run(X, valid_lens)
        # outputs: (num_steps, batch_size, num_hiddens);
        # h, c: (num_layers, batch_size, num_hiddens)
        return outputs, [h, c]

    def hybrid_forward(self, F, X, valid_lens):
        """Step through time; return the outputs and each final state."""
        # (num_steps, batch_size, embed_size)
        X = F.np.swapaxes(self.embedding(X), 0, 1)
        # The LSTM starts from zeros, (num_layers, batch_size, num_hiddens),
        # shaped from the data: (1, batch_size, 1)
        zeros = F.np.zeros_like(valid_lens.astype('float32')).reshape(1, -1, 1)
        h = c = F.np.tile(zeros, (self.num_layers, 1, self.num_hiddens))
        outputs, hs, cs = [], [], []
        for x in F.np.split(X, self.num_steps, axis=0):
            # x: (1, batch_size, embed_size); out: (1, batch_size, num_hiddens)
            out, (h, c) = self.rnn(x, [h, c])
            outputs.append(out)
            hs.append(h)
            cs.append(c)
        # Outputs at padded positions become 0:
        # (num_steps, batch_size, num_hiddens)
        outputs = F.npx.sequence_mask(F.np.concatenate(outputs, axis=0),
                                      valid_lens, use_sequence_length=True,
                                      axis=0)
        # Each sequence's state is the one after its last valid step: gather_nd
        # picks, for each example b, the entry (valid_len[b] - 1, b) of the
        # steps' states
        examples = F.npx.arange_like(valid_lens)  # 0, 1, ..., batch_size - 1
        # (2, batch_size)
        picks = F.np.stack([valid_lens - 1, examples]).astype('int32')
        # num_steps x (num_layers, batch_size, num_hiddens)
        # -> (num_steps, num_layers, batch_size, num_hiddens)
        # -> (num_steps, batch_size, num_layers, num_hiddens)
        # -> (batch_size, num_layers, num_hiddens)
        # -> (num_layers, batch_size, num_hiddens)
        h, c = [F.np.swapaxes(
                    F.npx.gather_nd(F.np.swapaxes(F.np.stack(states), 1, 2),
                                    picks), 0, 1)
                for states in (hs, cs)]
        return outputs, h, c


class Seq2SeqDecoder(Decoder):
    """The decoder without attention: one fixed context, the encoder's state."""

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers,
                 dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.embedding = make_embedding(vocab_size, embed_size)
        self.rnn = make_lstm(num_hiddens, num_layers, dropout)
        self.dense = nn.Dense(vocab_size, flatten=False)

    def init_state(self, enc_outputs, *args):
        """Return `[context, final encoder state]`; the context is fixed."""
        _, hidden_state = enc_outputs
        # the last layer's final hidden state: (1, batch_size, num_hiddens)
        context = hidden_state[0][-1:]
        return [context, hidden_state]

    def forward(self, X, state):
        """Return the next-token scores and the new state."""
        if not isinstance(X, mx.sym.Symbol):
            _check_tokens('X', X, self)
        context, hidden_state = state
        outputs, h, c = self.run(X, context, hidden_state)
        # outputs: (batch_size, num_steps, vocab_size)
        return outputs, [context, [h, c]]

    def hybrid_forward(self, F, X, context, hidden_state):
        """Run the LSTM over all steps, the context beside each input."""
        # (num_steps, batch_size, embed_size)
        X = F.np.swapaxes(self.embedding(X), 0, 1)
        # (1, batch_size, num_hiddens) -> (num_steps, batch_size, num_hiddens)
        context = F.np.repeat(context, self.num_steps, axis=0)
        # (num_steps, batch_size, embed_size + num_hiddens)
        X_and_context = F.np.concatenate((X, context), axis=2)
        outputs, (h, c) = self.rnn(X_and_context, hidden_state)
        # Batch-major before the output layer (cheaper than swapping the
        # scores): (num_steps, batch_size, num_hiddens)
        # -> (batch_size, num_steps, num_hiddens)
        # -> (batch_size, num_steps, vocab_size)
        return self.dense(F.np.swapaxes(outputs, 0, 1)), h, c

    def reorder_state(self, state, indices):
        """Pick the batch entries `indices` (axis 1 of every array)."""
        context, (h, c) = state
        return [context[:, indices], [h[:, indices], c[:, indices]]]


class Seq2SeqAttentionDecoder(AttentionDecoder):
    """The decoder with attention: each step attends over the encoder."""

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers,
                 dropout=0.0, attention='mlp', **kwargs):
        super().__init__(**kwargs)
        if attention == 'mlp':
            self.attention = MLPAttention(num_hiddens, dropout)
        elif attention == 'dot':
            self.attention = DotProductAttention(dropout)
        else:
            raise ValueError(
                f"attention must be 'mlp' or 'dot', got {attention!r}")
        self.embedding = make_embedding(vocab_size, embed_size)
        self.rnn = make_lstm(num_hiddens, num_layers, dropout)
        self.dense = nn.Dense(vocab_size, flatten=False)
        self._attention_weights = None

    def init_state(self, enc_outputs, enc_valid_lens, *args):
        """Return `[enc_outputs, final encoder state, enc_valid_lens]`."""
        outputs, hidden_state = enc_outputs
        # (num_steps, batch_size, num_hiddens)
        # -> (batch_size, num_steps, num_hiddens)
        return [outputs.swapaxes(0, 1), hidden_state, enc_valid_lens]

    def forward(self, X, state):
        """Return the next-token scores and the new state."""
        enc_outputs, hidden_state, enc_valid_lens = state
        if not isinstance(X, mx.sym.Symbol):
            _check_tokens('X', X, self)
            if enc_valid_lens is None:
                enc_valid_lens = _all_valid_lens(enc_outputs)
        outputs, h, c, self._attention_weights = self.run(
            X, enc_outputs, hidden_state, enc_valid_lens)
        # outputs: (batch_size, num_steps, vocab_size)
        return outputs, [enc_outputs, [h, c], state[2]]

    def hybrid_forward(self, F, X, enc_outputs, hidden_state, enc_valid_lens):
        """At each step attend, concatenate and advance the LSTM."""
        h, c = hidden_state
        # (num_steps, batch_size, embed_size)
        X = F.np.swapaxes(self.embedding(X), 0, 1)
        outputs, attention_weights = [], []
        # The keys and values are the encoder outputs; the keys' projection
        # (additive attention's W_k k) is the same at every step: computed once
        keys = self.attention.project_keys(enc_outputs)
        # x: (1, batch_size, embed_size)
        for x in F.np.split(X, self.num_steps, axis=0):
            # The query is the last layer's hidden state:
            # (1, batch_size, num_hiddens) -> (batch_size, 1, num_hiddens)
            query = F.np.swapaxes(h[-1:], 0, 1)
            # context: (batch_size, 1, num_hiddens);
            # weights: (batch_size, 1, num_enc_steps)
            context, weights = self.attention.attend(F, query, keys,
                                                     enc_outputs,
                                                     enc_valid_lens)
            # Concatenate on the feature axis, time-major:
            # (1, batch_size, num_hiddens) and (1, batch_size, embed_size)
            # -> (1, batch_size, num_hiddens + embed_size)
            x = F.np.concatenate((F.np.swapaxes(context, 0, 1), x), axis=-1)
            # out: (1, batch_size, num_hiddens)
            out, (h, c) = self.rnn(x, [h, c])
            outputs.append(out)
            attention_weights.append(weights)
        # Batch-major before the output layer (cheaper than swapping the
        # scores): num_steps x (1, batch_size, num_hiddens)
        # -> (num_steps, batch_size, num_hiddens)
        # -> (batch_size, num_steps, num_hiddens)
        outputs = F.np.swapaxes(F.np.concatenate(outputs, axis=0), 0, 1)
        # scores: (batch_size, num_steps, vocab_size);
        # weights: (batch_size, num_steps, num_enc_steps)
        return (self.dense(outputs), h, c,
                F.np.concatenate(attention_weights, axis=1))

    @property
    def attention_weights(self):
        """The last call's weights, `(batch_size, num_steps, num_enc_steps)`."""
        return self._attention_weights

    def reorder_state(self, state, indices):
        """Pick the batch entries `indices` (encoder parts: axis 0)."""
        enc_outputs, (h, c), enc_valid_lens = state
        return [enc_outputs[indices], [h[:, indices], c[:, indices]],
                enc_valid_lens[indices]]


def build_seq2seq(src_vocab_size, tgt_vocab_size, embed_size, num_hiddens,
                  num_layers, dropout=0.0, decoder='attention',
                  attention='mlp'):
    """Build an (uninitialized) `EncoderDecoder` from its hyperparameters."""
    src_vocab_size = check_int('src_vocab_size', src_vocab_size, low=1)
    tgt_vocab_size = check_int('tgt_vocab_size', tgt_vocab_size, low=1)
    embed_size = check_int('embed_size', embed_size, low=1)
    num_hiddens = check_int('num_hiddens', num_hiddens, low=1)
    num_layers = check_int('num_layers', num_layers, low=1)
    dropout = check_float('dropout', dropout, low=0, high=1, high_open=True)
    check_choice('decoder', decoder, ('attention', 'plain'))
    check_choice('attention', attention, ('mlp', 'dot'))
    encoder = Seq2SeqEncoder(src_vocab_size, embed_size, num_hiddens,
                             num_layers, dropout)
    if decoder == 'attention':
        dec = Seq2SeqAttentionDecoder(tgt_vocab_size, embed_size, num_hiddens,
                                      num_layers, dropout, attention=attention)
    elif decoder == 'plain':
        dec = Seq2SeqDecoder(tgt_vocab_size, embed_size, num_hiddens,
                             num_layers, dropout)
    else:
        raise ValueError(
            f"decoder must be 'attention' or 'plain', got {decoder!r}")
    return EncoderDecoder(encoder, dec)
