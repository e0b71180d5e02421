"""Training, export and Hub upload for ctc-recognizer models (needs TensorFlow)."""
