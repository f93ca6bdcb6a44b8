"""The chapter's model written as the d2l chapter writes it: the baseline the
benchmark drives with d2l's own `train_seq2seq`.

This is deliberately *not* the library's code: an imperative `nn.Block` encoder
that runs its LSTM over the padding, and an imperative decoder with a Python
loop over time steps, built from d2l's own `AdditiveAttention` (MLP attention).
Only the benchmark uses it.
"""

from d2l import mxnet as d2l
from mxnet import np
from mxnet.gluon import nn, rnn


class Seq2SeqEncoder(d2l.Encoder):
    """d2l's RNN encoder (LSTM version, as in the MXNet chapter)."""

    def __init__(
        self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0
    ):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = rnn.LSTM(num_hiddens, num_layers, dropout=dropout)

    def forward(self, X, *args):
        """Encode the whole (padded) batch in one LSTM call."""
        X = self.embedding(X).swapaxes(
            0, 1
        )  # (num_steps, batch_size, embed_size)
        state = self.rnn.begin_state(batch_size=X.shape[1], ctx=X.ctx)
        output, state = self.rnn(
            X, state
        )  # (num_steps, batch_size, num_hiddens)
        return output, state


class Seq2SeqAttentionDecoder(d2l.AttentionDecoder):
    """d2l's decoder with Bahdanau attention, one Python-loop
    iteration per time step."""

    def __init__(
        self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0
    ):
        super().__init__()
        self.attention = d2l.AdditiveAttention(num_hiddens, dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = rnn.LSTM(num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.Dense(vocab_size, flatten=False)

    def init_state(self, enc_outputs, enc_valid_lens, *args):
        """Encoder outputs made batch-major, the final encoder
        state, the valid lengths."""
        outputs, hidden_state = enc_outputs
        return (
            outputs.swapaxes(0, 1),
            hidden_state,
            enc_valid_lens,
        )  # (batch_size, num_steps, num_hiddens)

    def forward(self, X, state):
        """Attend, concatenate and advance the LSTM once per time step."""
        enc_outputs, hidden_state, enc_valid_lens = state
        X = self.embedding(X).swapaxes(
            0, 1
        )  # (num_steps, batch_size, embed_size)
        outputs, self._attention_weights = [], []
        for x in X:
            query = np.expand_dims(
                hidden_state[0][-1], axis=1
            )  # (batch_size, 1, num_hiddens)
            context = self.attention(
                query, enc_outputs, enc_outputs, enc_valid_lens
            )
            x = np.concatenate(
                (context, np.expand_dims(x, axis=1)), axis=-1
            )  # (batch_size, 1, num_hiddens + embed_size)
            out, hidden_state = self.rnn(
                x.swapaxes(0, 1), hidden_state
            )  # (1, batch_size, num_hiddens)
            outputs.append(out)
            self._attention_weights.append(self.attention.attention_weights)
        outputs = self.dense(
            np.concatenate(outputs, axis=0)
        )  # (num_steps, batch_size, vocab_size)
        return outputs.swapaxes(0, 1), [
            enc_outputs,
            hidden_state,
            enc_valid_lens,
        ]

    @property
    def attention_weights(self):
        """The attention weights of every step of the last call."""
        return self._attention_weights


class EncoderDecoder(nn.Block):
    """d2l's encoder-decoder as `train_seq2seq` expects it:
    `net(X, dec_X, valid_lens) -> (Y_hat, state)`."""

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, enc_X, dec_X, *args):
        """Encode, initialise the decoder state, decode."""
        enc_outputs = self.encoder(enc_X, *args)
        dec_state = self.decoder.init_state(enc_outputs, *args)
        return self.decoder(dec_X, dec_state)
