"""Training: the masked loss, gradient clipping by global norm, and `train_s2s`.

The trainer knows nothing about attention: it drives any `EncoderDecoder` whose forward pass is
`net(X, dec_input, X_valid_len) -> (Y_hat, state)`.
"""
import time

from d2l import mxnet as d2l
from mxnet import autograd, gluon, init, np, npx

from .plotting import plot_losses
from .utils import as_ctx_list


class MaskedSoftmaxCELoss(gluon.loss.SoftmaxCELoss):
    """Softmax cross-entropy per sequence in which padded positions contribute nothing.

    As in d2l, the loss of a sequence is the sum of its valid tokens' cross-entropies divided
    by `num_steps`.
    """

    def forward(self, pred, label, valid_len):
        """pred: (batch_size, num_steps, vocab_size); label: (batch_size, num_steps); valid_len: (batch_size,)."""
        weights = np.expand_dims(np.ones_like(label, dtype=pred.dtype), axis=-1)  # (batch_size, num_steps, 1)
        weights = npx.sequence_mask(weights, valid_len.astype(pred.dtype), True, axis=1)
        return super().forward(pred, label, weights)  # (batch_size,)


def grad_clipping(params, theta, ctxs):
    """Scale the gradients on every context so that their global L2 norm is at most `theta`.

    Call it after the gradients of all contexts have been summed (so they are equal on every
    context); the norm stays on the device, so no host synchronisation happens here.
    """
    grads = [p.grad(ctxs[0]) for p in params]
    norm = np.sqrt(sum((g ** 2).sum() for g in grads))
    scale = np.minimum(1.0, theta / (norm + 1e-12))
    for ctx in ctxs:
        scale_here = scale.as_in_ctx(ctx)
        for p in params:
            g = p.grad(ctx)
            g[:] *= scale_here


def _in_notebook():
    """Return True when running inside a Jupyter kernel (where a loss curve is worth drawing)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, 'kernel')


def train_s2s(net, data_iter, lr, num_epochs, tgt_vocab, ctx, clip_theta=1.0, plot=None,
              progress=None, verbose=True):
    """Train `net` with teacher forcing, Adam and gradient clipping; return per-epoch losses.

    `ctx` is one context or a list of them: each batch is then split across the contexts and
    their gradients summed (data parallelism), which gives the same update as one context.
    The loss reported (and returned) is the mean cross-entropy per valid target token.
    `plot` draws the loss curve once training ends (default: only inside a notebook);
    `progress(epoch, loss)` is called after every epoch when given.
    """
    ctxs = as_ctx_list(ctx)
    if not isinstance(num_epochs, int) or num_epochs < 1:
        raise ValueError(f'num_epochs must be a positive int, got {num_epochs!r}')
    net.initialize(init.Xavier(), force_reinit=True, ctx=ctxs)
    params = [p for p in net.collect_params().values() if p.grad_req != 'null']
    # update_on_kvstore=False lets us sum the gradients, clip them, then update
    trainer = gluon.Trainer(net.collect_params(), 'adam', {'learning_rate': lr},
                            update_on_kvstore=False)
    loss = MaskedSoftmaxCELoss()
    bos = tgt_vocab['<bos>']
    history, train_time, total_tokens = [], 0.0, 0.0
    for epoch in range(num_epochs):
        start = time.perf_counter()
        metric = d2l.Accumulator(2)  # sum of token losses, number of valid tokens
        for batch in data_iter:
            num_steps = batch[2].shape[1]
            shards = [gluon.utils.split_and_load(a, ctxs, even_split=False) for a in batch]
            with autograd.record():
                losses = []
                for X, X_valid_len, Y, Y_valid_len in zip(*shards):
                    bos_column = np.full((Y.shape[0], 1), bos, dtype=Y.dtype, ctx=Y.ctx)
                    dec_input = np.concatenate([bos_column, Y[:, :-1]], axis=1)  # teacher forcing: (batch_size, num_steps)
                    Y_hat, _ = net(X, dec_input, X_valid_len)
                    losses.append(loss(Y_hat, Y, Y_valid_len))
            autograd.backward(losses)
            trainer.allreduce_grads()  # sum the gradients of all contexts
            grad_clipping(params, clip_theta, ctxs)
            num_tokens = float(batch[3].sum())
            trainer.update(num_tokens)
            metric.add(sum(float(l.sum()) for l in losses) * num_steps, num_tokens)
        train_time += time.perf_counter() - start
        total_tokens += metric[1]
        history.append(metric[0] / metric[1])
        if progress is not None:
            progress(epoch + 1, history[-1])
    if verbose:
        where = ', '.join(str(c) for c in ctxs)
        print(f'loss {history[-1]:.3f}, {total_tokens / train_time:.1f} tokens/sec on {where}')
    if plot if plot is not None else _in_notebook():
        plot_losses([history])
    return history
