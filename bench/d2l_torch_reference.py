"""The chapter's model written as d2l's PyTorch edition writes it: the peer the
benchmark drives with `d2l.torch.train_seq2seq`.

Most readers of d2l train with its PyTorch edition, so this is what the
library's speed is measured against. The encoder runs `nn.LSTM` over the whole
padded batch in one call (cuDNN- and oneDNN-style fused kernels); the decoder
loops over time steps in Python, attending with d2l's own `AdditiveAttention`,
as the d2l chapter's `Seq2SeqAttentionDecoder` does (written there with a GRU;
here with the LSTM the book's model uses). Only the benchmark uses it.

`d2l.torch` imports torchvision at the top for its image data sets; no CPU
build of it is at hand, and nothing here uses it, so `import_d2l_torch` puts an
empty stand-in in its place.
"""

import sys
import types


def import_d2l_torch():
    """Import `d2l.torch` with an empty stand-in for torchvision
    (only image data uses it)."""
    if 'torchvision' not in sys.modules:
        try:
            import torchvision  # noqa: F401
        except ImportError:
            stub = types.ModuleType('torchvision')
            stub.transforms = types.ModuleType('torchvision.transforms')
            sys.modules['torchvision'] = stub
            sys.modules['torchvision.transforms'] = stub.transforms
    from d2l import torch as d2l

    return d2l


d2l = import_d2l_torch()
import torch  # noqa: E402
from torch import nn  # noqa: E402


class Seq2SeqEncoder(d2l.Encoder):
    """d2l's RNN encoder (LSTM version): the whole padded
    batch in one LSTM call."""

    def __init__(
        self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0
    ):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.LSTM(embed_size, num_hiddens, num_layers, dropout=dropout)

    def forward(self, X, *args):
        """Return the outputs `(num_steps, batch_size, num_hiddens)`
        and the final `(h, c)`."""
        X = self.embedding(X.t().long())  # (num_steps, batch_size, embed_size)
        output, state = self.rnn(X)
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
        self.rnn = nn.LSTM(
            embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout
        )
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_outputs, enc_valid_lens, *args):
        """Encoder outputs made batch-major, the final encoder
        state, the valid lengths."""
        outputs, hidden_state = enc_outputs
        # (num_steps, batch_size, num_hiddens)
        # -> (batch_size, num_steps, num_hiddens)
        return (outputs.permute(1, 0, 2), hidden_state, enc_valid_lens)

    def forward(self, X, state):
        """Attend, concatenate and advance the LSTM once per time step."""
        enc_outputs, hidden_state, enc_valid_lens = state
        X = self.embedding(X.long()).permute(
            1, 0, 2
        )  # (num_steps, batch_size, embed_size)
        outputs, self._attention_weights = [], []
        for x in X:
            # (batch_size, num_hiddens) -> (batch_size, 1, num_hiddens)
            query = torch.unsqueeze(hidden_state[0][-1], dim=1)
            context = self.attention(
                query, enc_outputs, enc_outputs, enc_valid_lens
            )
            # (batch_size, 1, num_hiddens + embed_size)
            x = torch.cat((context, torch.unsqueeze(x, dim=1)), dim=-1)
            # (1, batch_size, num_hiddens + embed_size)
            # -> (1, batch_size, num_hiddens)
            out, hidden_state = self.rnn(x.permute(1, 0, 2), hidden_state)
            outputs.append(out)
            self._attention_weights.append(self.attention.attention_weights)
        # (num_steps, batch_size, num_hiddens)
        # -> (num_steps, batch_size, vocab_size)
        outputs = self.dense(torch.cat(outputs, dim=0))
        return outputs.permute(1, 0, 2), [
            enc_outputs,
            hidden_state,
            enc_valid_lens,
        ]

    @property
    def attention_weights(self):
        """The attention weights of every step of the last call."""
        return self._attention_weights


class EncoderDecoder(nn.Module):
    """The encoder-decoder as `train_seq2seq` expects it:
    `net(X, dec_X, valid_lens)` returns `(Y_hat, state)`."""

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, enc_X, dec_X, *args):
        """Encode, initialise the decoder state, decode."""
        enc_outputs = self.encoder(enc_X, *args)
        dec_state = self.decoder.init_state(enc_outputs, *args)
        return self.decoder(dec_X, dec_state)


def evaluate_loss(net, arrays, batch_size, bos):
    """Mean cross-entropy per valid target token over `arrays` (X, X_valid_len,
    Y, Y_valid_len), in order, as the library's `evaluate_loss` computes it."""
    loss = d2l.MaskedSoftmaxCELoss()
    net.eval()
    total, num_tokens = 0.0, 0.0
    with torch.no_grad():
        for i in range(0, len(arrays[0]), batch_size):
            X, X_valid_len, Y, Y_valid_len = [
                a[i : i + batch_size] for a in arrays
            ]
            bos_column = torch.full((Y.shape[0], 1), bos, dtype=Y.dtype)
            Y_hat, _ = net(
                X, torch.cat([bos_column, Y[:, :-1]], 1), X_valid_len
            )
            # d2l's loss is each sequence's summed cross-entropy / num_steps
            total += (
                float(loss(Y_hat, Y.long(), Y_valid_len).sum()) * Y.shape[1]
            )
            num_tokens += float(Y_valid_len.sum())
    return total / num_tokens
