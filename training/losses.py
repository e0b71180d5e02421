"""CTC loss with the blank at ``len(vocab)`` and each label's real length."""

from __future__ import annotations

import keras
import tensorflow as tf

from .data import LABEL_PAD


def dense_to_sparse_labels(labels: tf.Tensor) -> tf.SparseTensor:
    """``(N, L)`` int labels padded with ``LABEL_PAD`` -> SparseTensor of the real labels."""
    labels = tf.cast(labels, tf.int32)
    indices = tf.where(labels != LABEL_PAD)
    return tf.SparseTensor(indices, tf.gather_nd(labels, indices), tf.shape(labels, out_type=tf.int64))


@keras.saving.register_keras_serializable(package="ctc_recognizer")
class CTCLoss(keras.losses.Loss):
    """Mean-over-batch CTC negative log-likelihood.

    ``y_true``: ``(N, L)`` class indices padded with ``-1`` (so every label keeps its real
    length; padding is never scored). ``y_pred``: ``(N, T, C)`` softmax probabilities with the
    blank at ``blank_index`` (the last class).

    Case-insensitive labels (sources whose labels do not carry case, see
    :func:`training.data.encode_label`) come lower-cased and offset by ``C``; for those rows
    the probability of each upper-case letter is added to its lower-case letter before
    scoring, so "HOTEL" on an image of "Hotel" teaches the letters, not a wrong case.
    ``case_fold`` (from :meth:`Charset.case_fold_map`) says which class folds to which.
    """

    def __init__(self, blank_index: int, case_fold: list[int] | None = None, name: str = "ctc_loss",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.blank_index = int(blank_index)
        self.case_fold = [int(c) for c in case_fold] if case_fold is not None else None

    def call(self, y_true, y_pred):
        y_pred = tf.convert_to_tensor(y_pred)
        batch = tf.shape(y_pred)[0]
        num_classes = tf.shape(y_pred)[2]
        logit_length = tf.fill([batch], tf.shape(y_pred)[1])
        labels = tf.cast(y_true, tf.int32)
        if self.case_fold is not None:
            folded_rows = tf.reduce_any(labels >= num_classes, axis=1)
            labels = tf.where(labels >= num_classes, labels - num_classes, labels)
            fold = tf.one_hot(self.case_fold, len(self.case_fold), dtype=y_pred.dtype)  # (C, C)
            folded = tf.einsum("ntc,cd->ntd", y_pred, fold)
            y_pred = tf.where(folded_rows[:, None, None], folded, y_pred)
        log_probs = tf.math.log(tf.clip_by_value(y_pred, 1e-10, 1.0))
        loss = tf.nn.ctc_loss(
            labels=dense_to_sparse_labels(labels),
            logits=log_probs,
            label_length=None,
            logit_length=logit_length,
            logits_time_major=False,
            blank_index=self.blank_index,
        )
        return loss

    def get_config(self):
        return {**super().get_config(), "blank_index": self.blank_index, "case_fold": self.case_fold}
