"""Training: teacher forcing, the masked loss and clipped Adam, `train_s2s`.

The trainer knows nothing about attention or figures: it drives any
`EncoderDecoder` whose forward pass is `net(X, dec_input, X_valid_len) ->
Y_hat`, on data that follows the `Batches` protocol, and returns the losses
(a `History`) for the chapters and the command line to show. The parameters
are updated by `optim.ClippedAdam`: Adam after clipping the gradients' global
norm, which also sums the gradients over contexts and workers.
"""
import time

from mxnet import autograd, gluon, init, np

from .batching import Batches
from .checks import check_batch_split, check_float, check_int
from .graphs import keep_graph_memory
from .loss import MaskedSoftmaxCELoss
from .optim import ClippedAdam
from .resume import TrainingState
from .utils import as_ctx_list


def decoder_inputs(Y, bos):
    """Teacher forcing: `<bos>`, then the target shifted by one step."""
    bos_column = np.full((Y.shape[0], 1), bos, dtype=Y.dtype, ctx=Y.ctx)
    # (batch_size, 1) and (batch_size, num_steps - 1)
    # -> (batch_size, num_steps)
    return np.concatenate([bos_column, Y[:, :-1]], axis=1)


class History(list):
    """The loss per valid target token of each epoch, with its tokens, time."""

    def __init__(self):
        super().__init__()
        self.tokens, self.seconds = [], []

    def add(self, loss_sum, tokens, seconds):
        """Record an epoch: its summed loss, valid target tokens, seconds."""
        self.append(loss_sum / tokens)
        self.tokens.append(tokens)
        self.seconds.append(seconds)

    @property
    def tokens_per_sec(self):
        """Valid target tokens trained on per second, over every epoch."""
        return sum(self.tokens) / sum(self.seconds)


def check_data(net, data_iter, tgt_vocab, num_ctxs=1):
    """Raise unless the data fits the model, its vocabulary and the contexts.

    The whole data is checked once, before any work: in training the model
    does not wait for each batch's values to check them.
    """
    if not isinstance(data_iter, Batches):
        raise TypeError(f'data_iter must follow the Batches protocol (as '
                        f'load_data_nmt and build_data_iter make), got '
                        f'{type(data_iter).__name__}')
    net.check_vocabularies(tgt_vocab=tgt_vocab)
    if len(data_iter.arrays) != 4:
        raise ValueError(f'data_iter.arrays must be (X, X_valid_len, Y, '
                         f'Y_valid_len), got {len(data_iter.arrays)} arrays')
    X, _, Y, _ = data_iter.arrays
    net.check_tokens(X, Y)
    check_batch_split(min(data_iter.batch_sizes()), num_ctxs,
                      f'split over {num_ctxs} contexts')


def train_epoch(net, batches, loss, optimizer, bos, ctxs):
    """One pass with teacher forcing; the summed loss and tokens, on ctxs[0].

    Both sums stay on the device, so that the batches are queued without
    waiting for each other. Each batch is split across the contexts `ctxs`.
    """
    epoch_loss = np.zeros((1,), ctx=ctxs[0])
    epoch_tokens = np.zeros((1,), ctx=ctxs[0])
    for batch in batches:
        # each array in one part per context
        shards = [gluon.utils.split_and_load(a, ctxs, even_split=False)
                  for a in batch]
        with autograd.record():
            losses = [loss(net(X, decoder_inputs(Y, bos), X_valid_len), Y,
                           Y_valid_len)
                      for X, X_valid_len, Y, Y_valid_len in zip(*shards)]
        autograd.backward(losses)
        # the batch's number of valid target tokens
        num_tokens = batch[3].sum().astype('float32').as_in_ctx(ctxs[0])
        optimizer.step(num_tokens)  # clip, then divide by num_tokens
        for shard_loss in losses:
            epoch_loss = epoch_loss + shard_loss.sum().as_in_ctx(ctxs[0])
        epoch_tokens += num_tokens
    return epoch_loss, epoch_tokens


def evaluate_loss(net, data_iter, tgt_vocab, ctx):
    """`net`'s mean cross-entropy per valid target token (no training).

    The batches are those of iterating `data_iter`.
    """
    ctx = as_ctx_list(ctx)[0]
    check_data(net, data_iter, tgt_vocab)
    loss = MaskedSoftmaxCELoss()
    total, num_tokens = 0.0, 0.0
    for batch in data_iter:
        X, X_valid_len, Y, Y_valid_len = [a.as_in_ctx(ctx) for a in batch]
        Y_hat = net(X, decoder_inputs(Y, tgt_vocab['<bos>']), X_valid_len)
        total += float(loss(Y_hat, Y, Y_valid_len).sum())
        num_tokens += float(Y_valid_len.sum())
    return total / num_tokens


def initialize(net, ctxs, reinit=True):
    """Initialize `net`'s parameters on `ctxs` (Xavier), shapes included.

    `reinit=False` keeps the values `net` has (say, from a checkpoint), moved
    to `ctxs`. Gluon infers the parameters' shapes on the first forward pass:
    one on a one-token batch lets the optimizer exist before training.
    """
    if reinit:
        net.initialize(init.Xavier(), force_reinit=True, ctx=ctxs)
    else:  # the values there are, moved to ctxs; Xavier for the others
        for p in net.collect_params().values():
            try:
                p.reset_ctx(ctxs)
            except ValueError:  # never initialized
                p.initialize(default_init=init.Xavier(), ctx=ctxs)
    token = np.zeros((1, 1), dtype='int32', ctx=ctxs[0])  # (batch, num_steps)
    net(token, token, np.ones((1,), dtype='int32', ctx=ctxs[0]))
    return [p for p in net.collect_params().values() if p.grad_req != 'null']


def graph_memory(data_iter, cut, tgt_vocab_size):
    """Whether training's graphs should keep their memory (`static_alloc`).

    A graph's largest array is its scores, batch x target steps x vocabulary
    float32 numbers; see `graphs.keep_graph_memory`.
    """
    batch_size = max(data_iter.batch_sizes())
    return keep_graph_memory([4 * batch_size * tgt_len * tgt_vocab_size
                              for _, tgt_len in data_iter.batch_shapes(cut)])


def train_s2s(net, data_iter, lr, num_epochs, tgt_vocab, ctx, clip_theta=1.0,
              hybridize=True, kvstore=None, progress=None, reinit=True,
              static_alloc=None, cut_padding=True, state_file=None):
    """Train `net` with teacher forcing, Adam and gradient clipping.

    Returns a `History`: each epoch's mean cross-entropy per valid target
    token (read from the device once per epoch, so that batches are queued
    without waiting), its tokens and seconds. The gradient of the batch's
    summed token cross-entropy is clipped to a global norm of `clip_theta`,
    then divided by the number of tokens. (d2l clips the gradient of that sum
    divided by `num_steps`; the two differ only when the norm is below the
    threshold, and ours does not depend on how much padding a batch carries.)
    `ctx` is one context or a list of them: each batch is then split across
    the contexts and their gradients summed (data parallelism), which gives
    the same update as one context. `kvstore` (say
    `mx.kv.create('dist_sync')`) sums the gradients over worker processes too;
    the losses and token counts are then those of all workers together.
    With `hybridize` (the default) the model is compiled, one graph per batch
    shape, and stays so afterwards. `static_alloc=True` keeps each graph's
    arrays allocated between calls: faster where operators are small, but each
    graph kept holds its memory; None chooses by `graphs.keep_graph_memory`.
    `cut_padding=True` trains on each batch cut to its longest source and
    target sentence (`data_iter.batches(cut=True)`): that changes no loss or
    gradient of a model that ignores padding, as this library's do; pass False
    for a model that reads it. `reinit=False` continues from the parameters
    `net` has (say, from `load_checkpoint`), Adam's moments starting afresh.
    `progress(epoch, loss)` is called after every epoch. With a `state_file`
    the training state is saved there after every epoch, and a run given an
    existing one continues from it to the same numbers (see `resume`).
    """
    ctxs = as_ctx_list(ctx)
    lr = check_float('lr', lr, low=0, low_open=True)
    num_epochs = check_int('num_epochs', num_epochs, low=1)
    clip_theta = check_float('clip_theta', clip_theta, low=0, low_open=True)
    check_data(net, data_iter, tgt_vocab, len(ctxs))
    cut = True if cut_padding else None  # None: as the data iterates
    if static_alloc is None:
        static_alloc = graph_memory(data_iter, cut, len(tgt_vocab))
    net.hybridize(hybridize, static_alloc=static_alloc,
                  static_shape=static_alloc)
    params = initialize(net, ctxs, reinit)
    optimizer = ClippedAdam(params, ctxs, lr, clip_theta, kvstore=kvstore)
    loss = MaskedSoftmaxCELoss()
    if hybridize:
        loss.hybridize(static_alloc=static_alloc, static_shape=static_alloc)
    history, state, done = History(), None, 0
    if state_file is not None:  # resumable: see `resume`
        state = TrainingState(state_file, net, optimizer, data_iter, lr,
                              clip_theta)
        done = state.start(history, num_epochs)
    for epoch in range(done, num_epochs):
        start = time.perf_counter()
        epoch_loss, tokens = train_epoch(net, data_iter.batches(cut), loss,
                                         optimizer, tgt_vocab['<bos>'], ctxs)
        # over all workers (distributed), read once per epoch: (loss, tokens)
        epoch_loss, tokens = optimizer.sum_over_workers(
            np.concatenate([epoch_loss, tokens])).tolist()
        history.add(epoch_loss, tokens, time.perf_counter() - start)
        if state is not None:
            state.epoch_done(history)
        if progress is not None:
            progress(epoch + 1, history[-1])
    return history
