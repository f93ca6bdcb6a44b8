"""Adam after clipping the gradients' global norm, fused on the device.

`gluon.Trainer(params, 'adam')` after a clipping of the gradients (d2l's
`grad_clipping`) updates each parameter with an operator call of its own and
clips with several more per parameter; on the book's small models those calls
cost more than the arithmetic. `ClippedAdam` computes the same update with a few
fused operators that never wait for the device: measured 10% faster than the
Trainer path for the chapter's training call and 27% for the fastest
configuration (bench/RESULTS.md, `default+gluon-trainer`), which is why the
library keeps it. `tests/test_optim.py` checks that it computes what the
Trainer path does.
"""
import math

import mxnet as mx
from mxnet import np


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

    def moments(self):
        """Adam's step count and its two moments per parameter, on the host."""
        ctx = self.ctxs[0]
        return (self.t, [m.asnumpy() for m in self.mean[ctx]],
                [v.asnumpy() for v in self.var[ctx]])

    def set_moments(self, t, mean, var):
        """Continue from `moments()`: the same step count and moments."""
        shapes = [p.shape for p in self.params]
        for name, arrays in (('mean', mean), ('var', var)):
            if [tuple(a.shape) for a in arrays] != shapes:
                raise ValueError(f'{name}: {len(arrays)} arrays whose shapes '
                                 f'are not those of the {len(shapes)} '
                                 f'parameters')
        self.t = t
        self.mean = {c: [np.array(m, ctx=c) for m in mean] for c in self.ctxs}
        self.var = {c: [np.array(v, ctx=c) for v in var] for c in self.ctxs}
