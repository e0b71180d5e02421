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
    """

    def __init__(self, blank_index: int, name: str = "ctc_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.blank_index = int(blank_index)

    def call(self, y_true, y_pred):
        y_pred = tf.convert_to_tensor(y_pred)
        batch = tf.shape(y_pred)[0]
        logit_length = tf.fill([batch], tf.shape(y_pred)[1])
        log_probs = tf.math.log(tf.clip_by_value(y_pred, 1e-10, 1.0))
        loss = tf.nn.ctc_loss(
            labels=dense_to_sparse_labels(y_true),
            logits=log_probs,
            label_length=None,
            logit_length=logit_length,
            logits_time_major=False,
            blank_index=self.blank_index,
        )
        return loss

    def get_config(self):
        return {**super().get_config(), "blank_index": self.blank_index}
