"""Training: the masked loss, gradient clipping by global norm, and `train_s2s`.

The trainer knows nothing about attention: it drives any `EncoderDecoder` whose
forward pass is `net(X, dec_input, X_valid_len) -> Y_hat`.
"""
import math
import time

import mxnet as mx
from mxnet import autograd, gluon, init, np

from .checks import (check_batch_split, check_float, check_int,
                     check_token_ids, check_vocabularies, check_whole_numbers,
                     embedded_vocab_size)
from .models import SequenceBlock
from .plotting import plot_losses
from .utils import as_ctx_list


class MaskedSoftmaxCELoss(gluon.loss.SoftmaxCELoss):
    """Softmax cross-entropy per sequence, padded positions left out.

    As in d2l, the loss of a sequence is the sum of its valid tokens'
    cross-entropies divided by `num_steps`.
    """

    def hybrid_forward(self, F, pred, label, valid_len):
        """The loss of each sequence, `(batch_size,)`.

        pred: (batch_size, num_steps, vocab_size);
        label: (batch_size, num_steps); valid_len: (batch_size,).
        """
        # (batch_size, num_steps, 1)
        weights = F.np.expand_dims(F.np.ones_like(label).astype('float32'),
                                   axis=-1)
        weights = F.npx.sequence_mask(weights, valid_len, True, axis=1)
        return super().hybrid_forward(F, pred, label, weights)  # (batch_size,)


class ClippedAdam:
    """Adam after clipping the gradients' global norm, fused on the device.

    It computes what `gluon.Trainer(params, 'adam')` does after d2l's
    `grad_clipping`, but the norm, the clipping factor and the division by the
    number of tokens never leave the device (no host synchronisation per batch),
    and all parameters of a context are updated by one `multi_adamw_update`
    (AdamW without weight decay is Adam; the bias correction goes into the
    learning rate, as MXNet's Adam does). With several contexts, or workers of a
    distributed `kvstore`, the gradients are first summed over all of them
    (`kvstore.pushpull`).
    """

    def __init__(self, params, ctxs, lr, theta=1.0, beta1=0.9, beta2=0.999,
                 epsilon=1e-8, kvstore=None):
        self.params, self.ctxs, self.lr, self.theta = params, ctxs, lr, theta
        self.beta1, self.beta2, self.epsilon, self.t = beta1, beta2, epsilon, 0
        # Adam's first and second moments, one pair per parameter per context
        self.mean = {c: [np.zeros(p.shape, ctx=c) for p in params]
                     for c in ctxs}
        self.var = {c: [np.zeros(p.shape, ctx=c) for p in params]
                    for c in ctxs}
        self.kvstore = kvstore
        if kvstore is None and len(ctxs) > 1:
            self.kvstore = mx.kv.create('device')
        self.distributed = (self.kvstore is not None
                            and 'dist' in self.kvstore.type)
        if self.kvstore is not None:
            # keys 0..n-1 sum the gradients; with a distributed kvstore, key n
            # sums the token counts and keys n+1..2n carry worker 0's parameters
            # to every worker. (The initial parameters need keys of their own:
            # on CPU a later push to the same key may reach the server before
            # this pull does, which then returns the summed gradients.)
            n, values = len(params), [p.data(ctxs[0]) for p in params]
            self.kvstore.init(list(range(n)), values)
            if self.distributed:
                self.kvstore.init(n, mx.nd.zeros((1,)))
                self.kvstore.init(list(range(n + 1, 2 * n + 1)), values)
                # key 2n + 1 sums what `sum_over_workers` is given
                self.kvstore.init(2 * n + 1, mx.nd.zeros((2,)))
                for i, p in enumerate(params):
                    self.kvstore.pull(n + 1 + i, out=p.list_data())

    def step(self, num_tokens):
        """Sum the gradients over contexts and workers, clip them, update.

        Before the update they are divided by `num_tokens`. `num_tokens` (a
        float or a 1-element array) is the number of valid target tokens in the
        batch this process trained on; with a distributed kvstore it is summed
        over workers (in a copy: the caller's count stays this process's).
        """
        num_tokens = (num_tokens.as_nd_ndarray().reshape(1).copy()
                      if hasattr(num_tokens, 'as_nd_ndarray')
                      else mx.nd.array([num_tokens], ctx=self.ctxs[0]))
        if self.kvstore is not None:
            for i, p in enumerate(self.params):
                self.kvstore.pushpull(i, p.list_grad(), out=p.list_grad())
            if self.distributed:
                self.kvstore.pushpull(len(self.params), num_tokens,
                                      out=num_tokens)
        self.t += 1
        lr = (self.lr * math.sqrt(1 - self.beta2 ** self.t)
              / (1 - self.beta1 ** self.t))
        grads = [p.grad(self.ctxs[0]).as_nd_ndarray() for p in self.params]
        # one entry per parameter
        sum_sq = mx.nd.multi_sum_sq(*grads, num_arrays=len(grads))
        norm = sum_sq.sum().sqrt()
        clip = mx.nd.minimum(self.theta / (norm + 1e-12), 1.0)
        # scales the summed gradients, on the device
        rescale = (clip / num_tokens).reshape(1)
        n = len(self.params)
        for ctx in self.ctxs:
            weights = [p.data(ctx).as_nd_ndarray() for p in self.params]
            mx.nd.contrib.multi_adamw_update(
                weights, [p.grad(ctx).as_nd_ndarray() for p in self.params],
                [m.as_nd_ndarray() for m in self.mean[ctx]],
                [v.as_nd_ndarray() for v in self.var[ctx]],
                rescale.as_in_context(ctx), out=weights, lrs=(lr,) * n,
                wds=(0.0,) * n, etas=(1.0,) * n, beta1=self.beta1,
                beta2=self.beta2, epsilon=self.epsilon)

    def sum_over_workers(self, values):
        """Sum a 2-element array over the workers of a distributed kvstore."""
        if not self.distributed:
            return values
        summed = values.as_nd_ndarray().copy()
        self.kvstore.pushpull(2 * len(self.params) + 1, summed, out=summed)
        return summed.as_np_ndarray()


def decoder_inputs(Y, bos):
    """Teacher forcing: `<bos>`, then the target shifted by one step."""
    bos_column = np.full((Y.shape[0], 1), bos, dtype=Y.dtype, ctx=Y.ctx)
    # (batch_size, num_steps)
    return np.concatenate([bos_column, Y[:, :-1]], axis=1)


def evaluate_loss(net, data_iter, tgt_vocab, ctx):
    """Return `net`'s mean cross-entropy per target token on `data_iter`.

    No training.
    """
    ctx = as_ctx_list(ctx)[0]
    check_vocabularies(net, None, tgt_vocab)
    loss = MaskedSoftmaxCELoss()
    total, num_tokens = 0.0, 0.0
    for batch in data_iter:
        _check_batch(net, batch, 1)
        X, X_valid_len, Y, Y_valid_len = [a.as_in_ctx(ctx) for a in batch]
        Y_hat = net(X, decoder_inputs(Y, tgt_vocab['<bos>']), X_valid_len)
        total += float(loss(Y_hat, Y, Y_valid_len).sum()) * Y.shape[1]
        num_tokens += float(Y_valid_len.sum())
    return total / num_tokens


def _in_notebook():
    """Return True when running inside a Jupyter kernel.

    A loss curve is worth drawing there.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, 'kernel')


class History(list):
    """Per-epoch losses (a list), with `tokens`.

    `tokens` holds each epoch's number of valid target tokens.
    """

    def __init__(self):
        super().__init__()
        self.tokens = []


def _arrays_of(data_iter):
    """The whole arrays behind a `BatchIterator`, else None.

    Also for one inside `ShardedBatches`.
    """
    while not hasattr(data_iter, 'arrays') and hasattr(data_iter, 'data_iter'):
        data_iter = data_iter.data_iter
    return getattr(data_iter, 'arrays', None)


def _check_batch(net, batch, num_ctxs):
    """Raise unless a batch fits `net` and the contexts.

    A batch is `(X, X_valid_len, Y, Y_valid_len)`.
    """
    if len(batch) != 4:
        raise ValueError(f'batches must be (X, X_valid_len, Y, Y_valid_len), '
                         f'got {len(batch)} arrays')
    X, X_valid_len, Y, Y_valid_len = batch
    check_token_ids('X', X, embedded_vocab_size(net.encoder))
    check_token_ids('Y', Y, embedded_vocab_size(net.decoder))
    check_whole_numbers('X_valid_len', X_valid_len, 1, X.shape[1])
    check_whole_numbers('Y_valid_len', Y_valid_len, 1, Y.shape[1])
    check_batch_split(X.shape[0], num_ctxs, f'split over {num_ctxs} contexts')


def _check_data(net, data_iter, tgt_vocab, num_ctxs):
    """Check the whole data once, before training, where it is at hand.

    Return whether it was. Data of a `BatchIterator` (as `build_data_iter`
    makes) is checked here in one go; any other iterable is checked batch by
    batch as training goes (`_check_batch`).
    """
    check_vocabularies(net, None, tgt_vocab)
    arrays = _arrays_of(data_iter)
    if arrays is None:
        return False
    _check_batch(net, arrays, 1)
    if hasattr(data_iter, 'batch_sizes'):
        check_batch_split(min(data_iter.batch_sizes()), num_ctxs,
                          f'split over {num_ctxs} contexts')
    return True


def _initialize(net, ctxs, reinit):
    """Initialize `net` on `ctxs` (Xavier).

    Every parameter, or with `reinit=False` only those without values, moving
    the others (say, loaded from a checkpoint) to `ctxs`.
    """
    if reinit:
        net.initialize(init.Xavier(), force_reinit=True, ctx=ctxs)
        return
    for p in net.collect_params().values():
        if p._data is None and not p._deferred_init:
            p.initialize(default_init=init.Xavier(), ctx=ctxs)
        elif set(p.list_ctx()) != set(ctxs):
            p.reset_ctx(ctxs)


def train_epoch(net, data_iter, loss, optimizer, bos, ctxs, check=False):
    """One pass over the data with teacher forcing; the summed loss, tokens.

    Both sums stay on the device (`ctxs[0]`), so that the batches are queued
    without waiting for each other. Each batch is split across the contexts
    (`ctxs`); `check` checks every batch first (`train_s2s` asks for it when
    it could not check the whole data beforehand).
    """
    epoch_loss, epoch_tokens = (np.zeros((1,), ctx=ctxs[0]),
                                np.zeros((1,), ctx=ctxs[0]))
    for batch in data_iter:
        if check:
            _check_batch(net, batch, len(ctxs))
        num_steps = batch[2].shape[1]
        shards = [gluon.utils.split_and_load(a, ctxs, even_split=False)
                  for a in batch]
        with autograd.record():
            losses = []
            for X, X_valid_len, Y, Y_valid_len in zip(*shards):
                Y_hat = net(X, decoder_inputs(Y, bos), X_valid_len)
                # each sequence's summed cross-entropy
                # (d2l's loss is this / num_steps)
                losses.append(loss(Y_hat, Y, Y_valid_len) * num_steps)
        autograd.backward(losses)
        # the batch's number of valid target tokens, kept on the device
        num_tokens = batch[3].sum().astype('float32').as_in_ctx(ctxs[0])
        optimizer.step(num_tokens)  # clip, then divide by num_tokens
        for l in losses:
            epoch_loss = epoch_loss + l.sum().as_in_ctx(ctxs[0])
        epoch_tokens += num_tokens
    return epoch_loss, epoch_tokens


# The most memory the score arrays of graphs that keep their own may take
# together (see `_keep_graph_memory`)
STATIC_SCORES_BYTES = 64 * 2 ** 20


def _keep_graph_memory(data_iter, cut, vocab_size):
    """Whether each compiled graph should keep its arrays (`static_alloc`).

    Yes where the batches come in at most `SequenceBlock.max_graphs` shapes
    and the score arrays of those shapes, `(batch_size, num_steps,
    vocab_size)` floats each (a graph's largest), take at most
    `STATIC_SCORES_BYTES` together; and where the data cannot tell
    (`batch_shapes`). `cut` says whether training asks for
    `batches(cut=True)` (else it iterates).
    """
    shapes = (data_iter.batch_shapes(True if cut else None)
              if hasattr(data_iter, 'batch_shapes') else None)
    if shapes is None:
        return True
    batch_size = max(data_iter.batch_sizes(), default=0)  # the largest batch
    # 4 bytes per float32 score
    scores_bytes = sum(batch_size * num_steps * vocab_size * 4
                       for _, num_steps in shapes)
    return (len(shapes) <= SequenceBlock.max_graphs
            and scores_bytes <= STATIC_SCORES_BYTES)


def train_s2s(net, data_iter, lr, num_epochs, tgt_vocab, ctx, clip_theta=1.0,
              hybridize=True, kvstore=None, plot=None, progress=None,
              verbose=True, reinit=True, static_alloc=None, cut_padding=True):
    """Train `net` with teacher forcing, Adam and gradient clipping.

    Return per-epoch losses. The objective is the mean cross-entropy per valid
    target token: the gradient of the batch's summed token cross-entropy is
    clipped to a global norm of `clip_theta`, then divided by the number of
    tokens. (d2l clips the gradient of that sum divided by `num_steps`; the two
    differ only when the norm is below the threshold, and ours does not depend
    on how much padding a batch carries, so cutting it, `bucket=1` in the data,
    changes nothing.)
    `ctx` is one context or a list of them: each batch is then split across the
    contexts and their gradients summed (data parallelism), which gives the same
    update as one context.
    `kvstore` (say `mx.kv.create('dist_sync')`) sums the gradients over worker
    processes too; the losses and token counts reported are then those of all
    workers together.
    With `hybridize` (the default) the model is compiled into graphs, one per
    batch shape, and stays so afterwards; `hybridize=False` runs it
    imperatively. `static_alloc=True` keeps each graph's arrays allocated
    between calls: faster where operators are small (the chapters' models), but
    each graph kept (`SequenceBlock.max_graphs`) holds its memory.
    `static_alloc=False` lets the graphs share memory, at little cost in speed
    on larger models. The default, None, chooses True unless the data says its
    batches come in more shapes than a block keeps graphs (say, bucketed data
    cut in steps of one token), where building and keeping graphs of their own
    would grow the memory by gigabytes, or in shapes whose score arrays would
    together take more than `STATIC_SCORES_BYTES` (64 MiB: larger batches and
    vocabularies, whose operators are large enough that keeping their arrays
    saves no time; at chapter 5's size it would keep 0.5 GiB more).
    `cut_padding=True` (the default) trains on each batch cut to its longest
    source and target sentence where the data can say where they end (a
    `BatchIterator` can: `batches(cut=True)`, which rounds the cut lengths so
    that there are few shapes): the padding columns are not computed. That
    changes no loss or gradient of a model that ignores padding, as this
    library's do (masked encoder outputs, states taken at the valid lengths,
    masked attention and loss); pass False for a model that reads it.
    `reinit=True` (the default) starts from fresh parameters; `reinit=False`
    continues training those `net` has (say, from `load_checkpoint`), Adam's
    moments starting afresh.
    The loss reported (and returned, a `History`) is the mean cross-entropy per
    valid target token, read from the device once per epoch so that batches are
    queued without waiting for each other. `plot` draws the loss curve once
    training ends (default: only inside a notebook); `progress(epoch, loss)` is
    called every epoch.
    """
    ctxs = as_ctx_list(ctx)
    lr = check_float('lr', lr, low=0, low_open=True)
    num_epochs = check_int('num_epochs', num_epochs, low=1)
    clip_theta = check_float('clip_theta', clip_theta, low=0, low_open=True)
    checked = _check_data(net, data_iter, tgt_vocab, len(ctxs))
    cut = cut_padding and hasattr(data_iter, 'batches')
    if static_alloc is None:
        static_alloc = _keep_graph_memory(data_iter, cut, len(tgt_vocab))
    _initialize(net, ctxs, reinit)
    net.hybridize(hybridize, static_alloc=static_alloc,
                  static_shape=static_alloc)
    # Gluon infers the parameters' shapes on the first forward pass: one on a
    # one-token batch lets the optimizer (and a kvstore's common starting point)
    # exist before training starts
    # (batch_size, num_steps)
    token = np.zeros((1, 1), dtype='int32', ctx=ctxs[0])
    net(token, token, np.ones((1,), dtype='int32', ctx=ctxs[0]))
    params = [p for p in net.collect_params().values() if p.grad_req != 'null']
    optimizer = ClippedAdam(params, ctxs, lr, clip_theta, kvstore=kvstore)
    loss = MaskedSoftmaxCELoss()
    if hybridize:
        loss.hybridize(static_alloc=static_alloc, static_shape=static_alloc)
    bos = tgt_vocab['<bos>']
    history, train_time = History(), 0.0
    for epoch in range(num_epochs):
        start = time.perf_counter()
        batches = data_iter.batches(cut=True) if cut else data_iter
        epoch_loss, epoch_tokens = train_epoch(net, batches, loss, optimizer,
                                               bos, ctxs, check=not checked)
        # over all workers (distributed), read once per epoch: (loss, tokens)
        totals = optimizer.sum_over_workers(
            np.concatenate([epoch_loss, epoch_tokens]))
        total_loss, tokens = totals.asnumpy().tolist()
        history.append(total_loss / tokens)
        history.tokens.append(tokens)
        train_time += time.perf_counter() - start
        if progress is not None:
            progress(epoch + 1, history[-1])
    if verbose:
        where = ', '.join(str(c) for c in ctxs)
        print(f'loss {history[-1]:.3f}, '
              f'{sum(history.tokens) / train_time:.1f} tokens/sec on {where}')
    if plot if plot is not None else _in_notebook():
        plot_losses([history])
    return history
