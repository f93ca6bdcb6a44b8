"""Encoder–decoder models: the interfaces, the LSTM encoder, the two decoders.

`Seq2SeqDecoder` is the baseline: it sees the source only through the encoder's
final state (the same "context" at every step). `Seq2SeqAttentionDecoder`
instead attends, at every step, over the encoder outputs of all source
positions, using the decoder's hidden state of the previous step as the query
(Bahdanau et al., 2015). A `Seq2SeqConfig` holds a model's hyperparameters;
`build_seq2seq` builds the model it describes, with the decoder named in
`DECODERS`.

Every block loops over time steps in `hybrid_forward`, where `self.num_steps`
is the number of steps of the batch at hand (set by `forward`, or by the
`EncoderDecoder` whose graph the block is part of); `hybridize()` compiles one
graph per length (`graphs.SequenceBlock`).
"""
import dataclasses

import mxnet as mx
from mxnet import autograd, np
from mxnet.gluon import nn, rnn

from .attention import DotProductAttention, MLPAttention, check_valid_lens
from .checks import check_choice, check_float, check_int, check_token_ids
from .graphs import SequenceBlock


def is_symbolic(X):
    """Whether `X` is a symbol of a graph being built (not an array)."""
    return isinstance(X, mx.sym.Symbol)


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

    @classmethod
    def from_config(cls, config):
        """The decoder a `Seq2SeqConfig` describes."""
        return cls(config.tgt_vocab_size, config.embed_size,
                   config.num_hiddens, config.num_layers, config.dropout)


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
        lengths = None
        if not is_symbolic(enc_X):
            # token ids are checked outside training only: in training they
            # come from the data, which train_s2s checks once
            self.check_tokens(enc_X, dec_X,
                              check_values=not autograd.is_recording())
            enc_valid_lens = source_valid_lens(enc_X, enc_valid_lens)
            # the steps the encoder's and the decoder's loops run over; one
            # compiled graph per (source length, target length)
            self.encoder.num_steps = enc_X.shape[1]
            self.decoder.num_steps = dec_X.shape[1]
            lengths = (enc_X.shape[1], dec_X.shape[1])
        return self.run(lengths, enc_X, dec_X, enc_valid_lens)

    def hybrid_forward(self, F, enc_X, dec_X, enc_valid_lens):
        """Encode, initialise the decoder's state, decode."""
        enc_outputs = self.encoder(enc_X, enc_valid_lens)
        dec_state = self.decoder.init_state(enc_outputs, enc_valid_lens)
        return self.decoder(dec_X, dec_state)[0]

    def check_tokens(self, enc_X, dec_X, check_values=True):
        """Raise unless both are batches of token ids the model embeds."""
        check_token_ids('enc_X', enc_X,
                        self.encoder.vocab_size if check_values else None)
        check_token_ids('dec_X', dec_X,
                        self.decoder.vocab_size if check_values else None)

    def check_vocabularies(self, src_vocab=None, tgt_vocab=None):
        """Raise unless each vocabulary (if given) fits the model's."""
        for name, vocab, block in (('src_vocab', src_vocab, self.encoder),
                                   ('tgt_vocab', tgt_vocab, self.decoder)):
            if vocab is not None and len(vocab) != block.vocab_size:
                raise ValueError(
                    f'{name} holds {len(vocab)} tokens, but the model\'s '
                    f'{type(block).__name__} embeds {block.vocab_size}')


def full_lengths(X):
    """Valid lengths without padding: `X.shape[1]` per example."""
    return np.full((X.shape[0],), X.shape[1], dtype='int32', ctx=X.ctx)


def source_valid_lens(X, valid_lens):
    """Checked valid lengths of the source batch `X` (all of it if None).

    The values are checked outside training only (they wait for the data).
    """
    if valid_lens is None:
        return full_lengths(X)
    check_valid_lens(valid_lens, X.shape[0], 1, X.shape[1],
                     check_values=not autograd.is_recording())
    return valid_lens


def check_tokens(name, X, block):
    """Raise unless `X` is a batch of ids `block` embeds.

    The values are checked outside training only.
    """
    check_token_ids(name, X,
                    None if autograd.is_recording() else block.vocab_size)


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


def zero_state(F, valid_lens, num_layers, num_hiddens):
    """An LSTM's initial h (or c): zeros, `(num_layers, batch, num_hiddens)`.

    Shaped from the data, so that it works inside a graph too.
    """
    # (batch_size,) -> (1, batch_size, 1)
    zeros = F.np.zeros_like(valid_lens.astype('float32')).reshape(1, -1, 1)
    return F.np.tile(zeros, (num_layers, 1, num_hiddens))


def at_valid_lengths(F, states, valid_lens):
    """Each sentence's entry of the state after its last valid step.

    states: num_steps x (num_layers, batch_size, num_hiddens); returns
    (num_layers, batch_size, num_hiddens). gather_nd picks, for each example
    b, the entry (valid_lens[b] - 1, b).
    """
    examples = F.npx.arange_like(valid_lens)  # 0, 1, ..., batch_size - 1
    # (2, batch_size)
    picks = F.np.stack([valid_lens - 1, examples]).astype('int32')
    # -> (num_steps, num_layers, batch_size, num_hiddens)
    # -> (num_steps, batch_size, num_layers, num_hiddens)
    # -> (batch_size, num_layers, num_hiddens)
    # -> (num_layers, batch_size, num_hiddens)
    return F.np.swapaxes(F.npx.gather_nd(
        F.np.swapaxes(F.np.stack(states), 1, 2), picks), 0, 1)


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
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.num_layers = num_layers
        self.embedding = make_embedding(vocab_size, embed_size)
        self.rnn = make_lstm(num_hiddens, num_layers, dropout)

    def forward(self, X, valid_lens=None):
        """Return all steps' outputs and every layer's final `[h, c]` state."""
        if not is_symbolic(X):
            check_tokens('X', X, self)
            valid_lens = source_valid_lens(X, valid_lens)
            self.num_steps = X.shape[1]
        outputs, h, c = self.run(self.num_steps, X, valid_lens)
        # outputs: (num_steps, batch_size, num_hiddens), twice num_hiddens
        # when bidirectional; h, c: (num_layers, batch_size, num_hiddens)
        return outputs, [h, c]

    def hybrid_forward(self, F, X, valid_lens):
        """Embed, step through time; the outputs and each final state."""
        # (num_steps, batch_size, embed_size)
        X = F.np.swapaxes(self.embedding(X), 0, 1)
        return self.step_through(F, self.rnn, X, valid_lens)

    def step_through(self, F, rnn, X, valid_lens):
        """Run `rnn` a step at a time; outputs and the valid lengths' states."""
        h = c = zero_state(F, valid_lens, self.num_layers, self.num_hiddens)
        outputs, hs, cs = [], [], []
        for x in F.np.split(X, self.num_steps, axis=0):
            # x: (1, batch_size, embed_size); out: (1, batch_size, num_hiddens)
            out, (h, c) = rnn(x, [h, c])
            outputs.append(out)
            hs.append(h)
            cs.append(c)
        # (num_steps, batch_size, num_hiddens), 0 at padded positions
        outputs = F.npx.sequence_mask(F.np.concatenate(outputs, axis=0),
                                      valid_lens, use_sequence_length=True,
                                      axis=0)
        # each sentence's state after its last valid token
        return (outputs, at_valid_lengths(F, hs, valid_lens),
                at_valid_lengths(F, cs, valid_lens))


def reverse_within(F, X, valid_lens):
    """Each sequence of `X` (time-major) reversed within its valid length.

    Position t < valid_lens[b] of sequence b takes position
    valid_lens[b] - 1 - t; the padding stays where it is. MXNet's
    `SequenceReverse` does it in one operator; the NumPy interface lacks it,
    so the arrays are viewed as MXNet's own (`as_nd_ndarray`) and back.
    """
    reversed_X = F.SequenceReverse(X.as_nd_ndarray(),
                                   valid_lens.as_nd_ndarray(),
                                   use_sequence_length=True)
    return reversed_X.as_np_ndarray()


class BidirectionalEncoder(Seq2SeqEncoder):
    """Bahdanau et al.'s encoder: each sentence read forwards and backwards.

    The annotation of source position j joins the forward LSTM's output at j
    (the sentence up to word j) and the backward LSTM's (the sentence from its
    last word back to word j): `(num_steps, batch_size, 2 * num_hiddens)`, so
    that it describes word j in its whole context. The backward LSTM starts
    at each sentence's own last token, so padding still changes nothing. The
    decoder starts from both directions' final states, joined and brought back
    to `num_hiddens` by a dense layer each (tanh for h, as Bahdanau et al.'s
    s_0 = tanh(W_s h_1 backward)).
    """

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers,
                 dropout=0.0, **kwargs):
        super().__init__(vocab_size, embed_size, num_hiddens, num_layers,
                         dropout, **kwargs)
        self.rnn_backward = make_lstm(num_hiddens, num_layers, dropout)
        self.bridge_h = nn.Dense(num_hiddens, activation='tanh',
                                 flatten=False)
        self.bridge_c = nn.Dense(num_hiddens, flatten=False)

    def hybrid_forward(self, F, X, valid_lens):
        """Read both ways; join the annotations, bridge the final states."""
        # (num_steps, batch_size, embed_size)
        X = F.np.swapaxes(self.embedding(X), 0, 1)
        forward, h, c = self.step_through(F, self.rnn, X, valid_lens)
        # the backward LSTM reads each sentence from its last token
        backward, h_back, c_back = self.step_through(
            F, self.rnn_backward, reverse_within(F, X, valid_lens), valid_lens)
        # annotations: (num_steps, batch_size, 2 * num_hiddens), each
        # position's backward output put back in its place
        outputs = F.np.concatenate(
            [forward, reverse_within(F, backward, valid_lens)], axis=2)
        # (num_layers, batch_size, 2 * num_hiddens)
        # -> (num_layers, batch_size, num_hiddens)
        h = self.bridge_h(F.np.concatenate([h, h_back], axis=2))
        c = self.bridge_c(F.np.concatenate([c, c_back], axis=2))
        return outputs, h, c


class Seq2SeqDecoder(Decoder):
    """The decoder without attention: one fixed context, the encoder's state."""

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers,
                 dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
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
        if not is_symbolic(X):
            check_tokens('X', X, self)
            self.num_steps = X.shape[1]
        context, hidden_state = state
        outputs, h, c = self.run(self.num_steps, X, context, hidden_state)
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
        self.vocab_size = vocab_size
        if attention == 'mlp':  # additive attention, as in Bahdanau et al.
            self.attention = MLPAttention(num_hiddens, dropout)
        else:  # 'dot' (checked by Seq2SeqConfig): scaled dot-product
            self.attention = DotProductAttention(dropout)
        self.embedding = make_embedding(vocab_size, embed_size)
        self.rnn = make_lstm(num_hiddens, num_layers, dropout)
        self.dense = nn.Dense(vocab_size, flatten=False)
        self.weights = None  # the attention weights of the last call

    @classmethod
    def from_config(cls, config):
        """The decoder a `Seq2SeqConfig` describes, its attention included."""
        return cls(config.tgt_vocab_size, config.embed_size,
                   config.num_hiddens, config.num_layers, config.dropout,
                   attention=config.attention)

    def init_state(self, enc_outputs, enc_valid_lens, *args):
        """Return `[enc_outputs, final encoder state, enc_valid_lens]`."""
        outputs, hidden_state = enc_outputs
        # (num_steps, batch_size, num_hiddens)
        # -> (batch_size, num_steps, num_hiddens)
        return [outputs.swapaxes(0, 1), hidden_state, enc_valid_lens]

    def forward(self, X, state):
        """Return the next-token scores and the new state."""
        enc_outputs, hidden_state, enc_valid_lens = state
        if not is_symbolic(X):
            check_tokens('X', X, self)
            if enc_valid_lens is None:  # (batch_size, num_enc_steps, ...)
                enc_valid_lens = full_lengths(enc_outputs)
            self.num_steps = X.shape[1]
        outputs, h, c, self.weights = self.run(
            self.num_steps, X, enc_outputs, hidden_state, enc_valid_lens)
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
        return self.weights

    def reorder_state(self, state, indices):
        """Pick the batch entries `indices` (encoder parts: axis 0)."""
        enc_outputs, (h, c), enc_valid_lens = state
        return [enc_outputs[indices], [h[:, indices], c[:, indices]],
                enc_valid_lens[indices]]


# The decoders a Seq2SeqConfig may name: a new one is a class and a line here
DECODERS = {'attention': Seq2SeqAttentionDecoder, 'plain': Seq2SeqDecoder}
ATTENTIONS = ('mlp', 'dot')


@dataclasses.dataclass
class Seq2SeqConfig:
    """A model's hyperparameters: what `build_seq2seq` builds from them."""

    src_vocab_size: int
    tgt_vocab_size: int
    embed_size: int = 32
    num_hiddens: int = 32
    num_layers: int = 2
    dropout: float = 0.0
    decoder: str = 'attention'  # a key of DECODERS
    attention: str = 'mlp'  # the attention decoder's: 'mlp' or 'dot'
    bidirectional: bool = False  # the encoder reads both ways (Bahdanau's)

    def __post_init__(self):
        for name in ('src_vocab_size', 'tgt_vocab_size', 'embed_size',
                     'num_hiddens', 'num_layers'):
            setattr(self, name, check_int(name, getattr(self, name), low=1))
        self.dropout = check_float('dropout', self.dropout, low=0, high=1,
                                   high_open=True)
        check_choice('decoder', self.decoder, tuple(DECODERS))
        check_choice('attention', self.attention, ATTENTIONS)
        if not isinstance(self.bidirectional, bool):
            raise TypeError(f'bidirectional must be a bool, got '
                            f'{self.bidirectional!r}')
        if (self.bidirectional and self.decoder == 'attention'
                and self.attention == 'dot'):
            raise ValueError(
                "attention='dot' needs keys of the query's size, and a "
                'bidirectional encoder\'s annotations are twice num_hiddens: '
                "use attention='mlp'")


def build_seq2seq(config):
    """The (uninitialized) `EncoderDecoder` a `Seq2SeqConfig` describes."""
    if not isinstance(config, Seq2SeqConfig):
        raise TypeError(f'config must be a Seq2SeqConfig, '
                        f'got {type(config).__name__}')
    encoder_class = (BidirectionalEncoder if config.bidirectional
                     else Seq2SeqEncoder)
    encoder = encoder_class(config.src_vocab_size, config.embed_size,
                            config.num_hiddens, config.num_layers,
                            config.dropout)
    return EncoderDecoder(encoder, DECODERS[config.decoder].from_config(config))
