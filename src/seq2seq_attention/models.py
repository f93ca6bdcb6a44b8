"""Encoder–decoder models: the interfaces, the LSTM encoder, and the two decoders compared here.

`Seq2SeqDecoder` is the baseline: it sees the source only through the encoder's final state and
its last output (the same "context" at every step). `Seq2SeqAttentionDecoder` instead attends,
at every step, over the encoder outputs of all source positions, using the decoder's hidden
state of the previous step as the query (Bahdanau et al., 2015).
"""
from mxnet import np
from mxnet.gluon import nn, rnn

from .attention import DotProductAttention, MLPAttention, check_valid_lens


class Encoder(nn.Block):
    """The encoder interface: maps a source batch to encoder outputs."""

    def forward(self, X, *args):
        """Encode `X`; extra arguments (such as valid lengths) are for subclasses."""
        raise NotImplementedError


class Decoder(nn.Block):
    """The decoder interface: a state built from the encoder, then steps that update it."""

    def init_state(self, enc_outputs, *args):
        """Turn the encoder outputs into the decoder's initial state."""
        raise NotImplementedError

    def forward(self, X, state):
        """Decode `X` from `state`; return the outputs and the new state."""
        raise NotImplementedError

    def reorder_state(self, state, indices):
        """Pick the batch entries `indices` of every array in `state` (used by beam search)."""
        raise NotImplementedError


class AttentionDecoder(Decoder):
    """The interface of a decoder with attention: its weights are readable after a call."""

    @property
    def attention_weights(self):
        """The attention weights of the last call."""
        raise NotImplementedError


class EncoderDecoder(nn.Block):
    """An encoder and a decoder trained together."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, enc_X, dec_X, *args):
        """Return the decoder outputs for `dec_X` given the source `enc_X`, and the final state."""
        enc_outputs = self.encoder(enc_X, *args)
        dec_state = self.decoder.init_state(enc_outputs, *args)
        return self.decoder(dec_X, dec_state)


def _check_tokens(X):
    """Raise a clear error unless `X` is a 2-D batch of token indices."""
    if not hasattr(X, 'ndim') or X.ndim != 2:
        raise ValueError(f'expected tokens of shape (batch_size, num_steps), got '
                         f'{getattr(X, "shape", type(X).__name__)}')


class Seq2SeqEncoder(Encoder):
    """The RNN encoder: token embeddings fed through a multi-layer LSTM.

    Given valid lengths, the LSTM state of each sequence stops changing once its valid length
    is reached and the outputs at padded positions are 0, so whatever tokens fill the padding
    change nothing downstream. (Gluon's `use_sequence_length` would do this in one call, but
    MXNet's CPU kernel ignores it, so we advance the LSTM one step at a time.)
    """

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = rnn.LSTM(num_hiddens, num_layers, dropout=dropout)

    def forward(self, X, valid_lens=None, *args):
        """Return the outputs of all steps and the final `[h, c]` state of every layer."""
        _check_tokens(X)
        X = self.embedding(X).swapaxes(0, 1)  # (num_steps, batch_size, embed_size)
        state = self.rnn.begin_state(batch_size=X.shape[1], ctx=X.ctx)
        if valid_lens is None:
            outputs, state = self.rnn(X, state)
        else:
            check_valid_lens(valid_lens, X.shape[1], 1, X.shape[0])
            outputs = []
            for t, x in enumerate(X):
                # (batch_size, embed_size) -> (1, batch_size, embed_size)
                out, new_state = self.rnn(np.expand_dims(x, axis=0), state)
                # 1 where step t is within the valid length: (1, batch_size, 1)
                valid = (valid_lens > t).astype(out.dtype).reshape(1, -1, 1)
                state = [valid * new + (1 - valid) * old for new, old in zip(new_state, state)]
                outputs.append(out * valid)
            outputs = np.concatenate(outputs, axis=0)  # (num_steps, batch_size, num_hiddens)
        # outputs: (num_steps, batch_size, num_hiddens)
        # state: [h, c], each (num_layers, batch_size, num_hiddens)
        return outputs, state


class Seq2SeqDecoder(Decoder):
    """The decoder without attention: one fixed context, the encoder's final top-layer state."""

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = rnn.LSTM(num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.Dense(vocab_size, flatten=False)

    def init_state(self, enc_outputs, *args):
        """Return `[context, final encoder state]`; the context is the same at every step."""
        _, hidden_state = enc_outputs
        context = hidden_state[0][-1]  # the last layer's final hidden state: (batch_size, num_hiddens)
        return [context, hidden_state]

    def forward(self, X, state):
        """Return the next-token scores `(batch_size, num_steps, vocab_size)` and the new state."""
        _check_tokens(X)
        context, hidden_state = state
        X = self.embedding(X).swapaxes(0, 1)  # (num_steps, batch_size, embed_size)
        # (batch_size, num_hiddens) -> (num_steps, batch_size, num_hiddens)
        context_steps = np.broadcast_to(context, (X.shape[0],) + context.shape)
        # (num_steps, batch_size, embed_size + num_hiddens)
        X_and_context = np.concatenate((X, context_steps), axis=2)
        outputs, hidden_state = self.rnn(X_and_context, hidden_state)
        # (num_steps, batch_size, num_hiddens) -> (batch_size, num_steps, vocab_size)
        outputs = self.dense(outputs).swapaxes(0, 1)
        return outputs, [context, hidden_state]

    def reorder_state(self, state, indices):
        """Pick the batch entries `indices` (batch axis 0 for the context, 1 for `[h, c]`)."""
        context, (h, c) = state
        return [context[indices], [h[:, indices], c[:, indices]]]


class Seq2SeqAttentionDecoder(AttentionDecoder):
    """The decoder with attention: each step attends over all encoder outputs."""

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0.0,
                 attention='mlp', **kwargs):
        super().__init__(**kwargs)
        if attention == 'mlp':
            self.attention = MLPAttention(num_hiddens, dropout)
        elif attention == 'dot':
            self.attention = DotProductAttention(dropout)
        else:
            raise ValueError(f"attention must be 'mlp' or 'dot', got {attention!r}")
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = rnn.LSTM(num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.Dense(vocab_size, flatten=False)
        self._attention_weights = []

    def init_state(self, enc_outputs, enc_valid_lens, *args):
        """Return `[encoder outputs (batch-major), final encoder state, encoder valid lengths]`."""
        outputs, hidden_state = enc_outputs
        # (num_steps, batch_size, num_hiddens) -> (batch_size, num_steps, num_hiddens)
        return [outputs.swapaxes(0, 1), hidden_state, enc_valid_lens]

    def forward(self, X, state):
        """Return the next-token scores `(batch_size, num_steps, vocab_size)` and the new state."""
        _check_tokens(X)
        enc_outputs, hidden_state, enc_valid_lens = state
        X = self.embedding(X).swapaxes(0, 1)  # (num_steps, batch_size, embed_size)
        outputs, self._attention_weights = [], []
        for x in X:  # x: (batch_size, embed_size)
            # The query is the last layer's hidden state: (batch_size, 1, num_hiddens)
            query = np.expand_dims(hidden_state[0][-1], axis=1)
            # The keys and values are the encoder outputs: context (batch_size, 1, num_hiddens)
            context = self.attention(query, enc_outputs, enc_outputs, enc_valid_lens)
            # Concatenate on the feature axis: (batch_size, 1, num_hiddens + embed_size)
            x = np.concatenate((context, np.expand_dims(x, axis=1)), axis=-1)
            # (batch_size, 1, ...) -> (1, batch_size, ...); out: (1, batch_size, num_hiddens)
            out, hidden_state = self.rnn(x.swapaxes(0, 1), hidden_state)
            outputs.append(out)
            self._attention_weights.append(self.attention.attention_weights)
        # (num_steps, batch_size, num_hiddens) -> (num_steps, batch_size, vocab_size)
        outputs = self.dense(np.concatenate(outputs, axis=0))
        # (num_steps, batch_size, vocab_size) -> (batch_size, num_steps, vocab_size)
        return outputs.swapaxes(0, 1), [enc_outputs, hidden_state, enc_valid_lens]

    @property
    def attention_weights(self):
        """Weights of every step of the last call: `(batch_size, num_steps, num_enc_steps)`."""
        # num_steps times (batch_size, 1, num_enc_steps) -> (batch_size, num_steps, num_enc_steps)
        return np.concatenate(self._attention_weights, axis=1)

    def reorder_state(self, state, indices):
        """Pick the batch entries `indices` (batch axis 0 for the encoder parts, 1 for `[h, c]`)."""
        enc_outputs, (h, c), enc_valid_lens = state
        return [enc_outputs[indices], [h[:, indices], c[:, indices]], enc_valid_lens[indices]]


def build_seq2seq(src_vocab_size, tgt_vocab_size, embed_size, num_hiddens, num_layers,
                  dropout=0.0, decoder='attention', attention='mlp'):
    """Build an (uninitialized) `EncoderDecoder` from its hyperparameters."""
    encoder = Seq2SeqEncoder(src_vocab_size, embed_size, num_hiddens, num_layers, dropout)
    if decoder == 'attention':
        dec = Seq2SeqAttentionDecoder(tgt_vocab_size, embed_size, num_hiddens, num_layers,
                                      dropout, attention=attention)
    elif decoder == 'plain':
        dec = Seq2SeqDecoder(tgt_vocab_size, embed_size, num_hiddens, num_layers, dropout)
    else:
        raise ValueError(f"decoder must be 'attention' or 'plain', got {decoder!r}")
    return EncoderDecoder(encoder, dec)
