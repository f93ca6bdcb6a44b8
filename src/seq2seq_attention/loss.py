"""The training objective: cross-entropy over each sentence's valid tokens.

Target sentences are padded to a common length; predicting `<pad>` is nothing
to learn, so the loss of a sentence sums the cross-entropies of its valid
tokens only (`<eos>` included) and leaves the padded positions out.
"""
from mxnet import gluon


class MaskedSoftmaxCELoss(gluon.loss.Loss):
    """Softmax cross-entropy summed over each sequence's valid tokens."""

    def __init__(self, **kwargs):
        super().__init__(weight=None, batch_axis=0, **kwargs)

    def hybrid_forward(self, F, pred, label, valid_len):
        """The loss of each sequence, `(batch_size,)`.

        pred: (batch_size, num_steps, vocab_size);
        label: (batch_size, num_steps); valid_len: (batch_size,).
        """
        # each token's cross-entropy: (batch_size, num_steps)
        loss = -F.npx.pick(F.npx.log_softmax(pred), label)
        # 0 beyond each sequence's valid length
        loss = F.npx.sequence_mask(loss, valid_len, use_sequence_length=True,
                                   axis=1)
        return loss.sum(axis=1)
