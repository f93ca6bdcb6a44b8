"""Decoding a trained model: greedy prediction, beam search, and BLEU.

A source sentence is preprocessed exactly like the training data (lower case, a space before
`,.!?`), mapped to indices (unknown words become `<unk>`), given `<eos>`, and truncated or padded
to `num_steps` tokens. A sentence longer than `num_steps - 1` words is therefore cut, as the
training sentences were, and the model sees no `<eos>` for it.
"""
import math

import numpy as onp
from d2l import mxnet as d2l
from mxnet import np, npx

from .data import preprocess_nmt, truncate_pad
from .utils import as_ctx_list

bleu = d2l.bleu  # d2l's BLEU for one sentence: precisions of n-grams up to k, brevity penalty


def _source_tokens(sentence, src_vocab, num_steps):
    """Check and preprocess one sentence; return its indices (with `<eos>`, cut or padded to
    `num_steps`) and its valid length."""
    if not isinstance(sentence, str):
        raise TypeError(f'sentence must be a str, got {type(sentence).__name__}')
    tokens = preprocess_nmt(sentence).split()
    if not tokens:
        raise ValueError('cannot translate an empty sentence')
    src_tokens = truncate_pad(src_vocab[tokens] + [src_vocab['<eos>']], num_steps,
                              src_vocab['<pad>'])
    return src_tokens, min(len(tokens) + 1, num_steps)


def _encode(net, rows, valid_lens, ctx):
    """Encode source rows (lists of indices) and return the decoder's initial state."""
    enc_X = np.array(rows, dtype='int32', ctx=ctx)  # (batch_size, num_steps)
    enc_valid_len = np.array(valid_lens, dtype='int32', ctx=ctx)  # (batch_size,)
    return net.decoder.init_state(net.encoder(enc_X, enc_valid_len), enc_valid_len)


def _to_sentence(indices, tgt_vocab):
    """Join target indices into a sentence (works with any vocabulary, one token or many)."""
    return ' '.join(tgt_vocab.idx_to_token[int(i)] for i in indices)


def translate_batch(net, sentences, src_vocab, tgt_vocab, num_steps, ctx, batch_size=256,
                    save_attention_weights=False):
    """Translate sentences greedily, `batch_size` at a time; return translations and weights.

    Each step feeds the decoder the likeliest token of the previous one, for every sentence at
    once; a sentence ends at its first `<eos>` (or after `num_steps` tokens). With
    `save_attention_weights`, the weights of each sentence are a NumPy array `(decoded steps,
    valid source length)`, one row per output token, the `<eos>` step included; otherwise the
    list of weights is None.
    """
    ctx, eos = as_ctx_list(ctx)[0], tgt_vocab['<eos>']  # decoding runs on one context
    translations, all_weights = [], []
    for start in range(0, len(sentences), batch_size):
        rows, src_lens = zip(*[_source_tokens(s, src_vocab, num_steps)
                               for s in sentences[start:start + batch_size]])
        dec_state = _encode(net, rows, src_lens, ctx)
        dec_X = np.full((len(rows), 1), tgt_vocab['<bos>'], dtype='int32', ctx=ctx)
        outputs, weights = [], []
        for _ in range(num_steps):
            Y, dec_state = net.decoder(dec_X, dec_state)  # Y: (batch_size, 1, vocab_size)
            dec_X = Y.argmax(axis=2).astype('int32')  # the likeliest token is the next input
            outputs.append(dec_X.asnumpy()[:, 0])
            if save_attention_weights:  # (batch_size, num_enc_steps)
                weights.append(net.decoder.attention_weights[:, 0, :].asnumpy())
            if (onp.stack(outputs, 1) == eos).any(axis=1).all():  # every sentence has ended
                break
        outputs = onp.stack(outputs, 1)  # (batch_size, decoded steps)
        for i, tokens in enumerate(outputs.tolist()):
            length = tokens.index(eos) if eos in tokens else len(tokens)
            translations.append(_to_sentence(tokens[:length], tgt_vocab))
            if save_attention_weights:  # rows up to the <eos> step, columns up to the source's
                steps = min(length + 1, len(tokens))
                all_weights.append(onp.stack(weights, 1)[i, :steps, :src_lens[i]])
    return translations, (all_weights if save_attention_weights else None)


def predict_s2s(net, sentence, src_vocab, tgt_vocab, num_steps, ctx,
                save_attention_weights=False):
    """Translate one sentence greedily; return the translation and its attention weights.

    This is `translate_batch` for a single sentence: decoding stops at `<eos>` or after
    `num_steps` tokens; the weights (with `save_attention_weights`, else None) are a NumPy array
    `(decoded steps, valid source length)`, one row per output token, `<eos>` included.
    """
    translations, weights = translate_batch(net, [sentence], src_vocab, tgt_vocab, num_steps,
                                            ctx, save_attention_weights=save_attention_weights)
    return translations[0], (weights[0] if save_attention_weights else None)


def beam_search(net, sentence, src_vocab, tgt_vocab, num_steps, ctx, beam_size=4, alpha=0.0,
                save_attention_weights=False):
    """Translate `sentence` by beam search; return the best translation and its attention weights.

    Each step keeps the `beam_size` likeliest unfinished hypotheses. A hypothesis ends at
    `<eos>` (or after `num_steps` tokens), and the finished ones are ranked by
    `log P(y) / L ** alpha` with `L` their length counting `<eos>` (d2l's length penalty;
    `alpha=0` ranks by probability alone, favouring short outputs). With `beam_size=1` and
    `alpha=0` this is greedy decoding.
    """
    if not isinstance(beam_size, int) or beam_size < 1:
        raise ValueError(f'beam_size must be a positive int, got {beam_size!r}')
    ctx = as_ctx_list(ctx)[0]  # decoding runs on one context
    row, src_len = _source_tokens(sentence, src_vocab, num_steps)
    state = _encode(net, [row], [src_len], ctx)
    eos = tgt_vocab['<eos>']
    # Unfinished hypotheses: (tokens, log-probability, attention rows), one state row each
    beams = [([], 0.0, [])]
    finished = []
    dec_X = np.array([[tgt_vocab['<bos>']]], dtype='int32', ctx=ctx)  # (num_beams, 1)
    for step in range(num_steps):
        Y, state = net.decoder(dec_X, state)  # (num_beams, 1, vocab_size)
        log_probs = npx.log_softmax(Y[:, 0, :]).asnumpy()  # (num_beams, vocab_size)
        weights = (net.decoder.attention_weights[:, 0, :src_len].asnumpy()
                   if save_attention_weights else None)  # (num_beams, src_len)
        scores = onp.array([[lp] for _, lp, _ in beams]) + log_probs
        candidates = onp.argsort(-scores, axis=None, kind='stable')[:2 * beam_size]
        new_beams, rows = [], []
        for flat in candidates:
            row, token = divmod(int(flat), scores.shape[1])
            tokens, _, attn = beams[row]
            attn = attn + [weights[row]] if save_attention_weights else attn
            hypothesis = (tokens + [token], float(scores[row, token]), attn)
            if token == eos or step == num_steps - 1:
                finished.append(hypothesis)
            elif len(new_beams) < beam_size:
                new_beams.append(hypothesis)
                rows.append(row)
            if len(new_beams) == beam_size:
                break
        if not new_beams:
            break
        beams = new_beams
        state = net.decoder.reorder_state(state, np.array(rows, dtype='int32', ctx=ctx))
        dec_X = np.array([[b[0][-1]] for b in beams], dtype='int32', ctx=ctx)
    best = max(finished, key=lambda h: length_penalty_score(h[1], len(h[0]), alpha))
    tokens = best[0][:-1] if best[0][-1] == eos else best[0]
    weights = onp.stack(best[2]) if save_attention_weights else None
    return _to_sentence(tokens, tgt_vocab), weights


def corpus_bleu(hypotheses, references):
    """Return sacrebleu's corpus BLEU (0-100) of translations against one reference each."""
    import sacrebleu
    if len(hypotheses) != len(references):
        raise ValueError(f'{len(hypotheses)} hypotheses but {len(references)} references')
    # force=True: our sentences are tokenized on purpose (a space before punctuation), which
    # sacrebleu would otherwise warn about on stderr; the score is the same
    return sacrebleu.corpus_bleu(list(hypotheses), [list(references)], force=True).score


def mean_bleu(hypotheses, references, k=2):
    """Return the average of d2l's sentence BLEU (0-1) over pairs of translations."""
    if len(hypotheses) != len(references) or not hypotheses:
        raise ValueError(f'need equally many (>0) hypotheses and references, got '
                         f'{len(hypotheses)} and {len(references)}')
    return sum(bleu(h, r, k) for h, r in zip(hypotheses, references)) / len(hypotheses)


def length_penalty_score(log_prob, length, alpha):
    """Score of a finished hypothesis: `log_prob / length ** alpha` (d2l's beam-search ranking)."""
    return log_prob / math.pow(length, alpha)
