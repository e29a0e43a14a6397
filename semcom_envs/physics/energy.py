"""Compute energy of a semantic codec on a device GPU (SemCom-Offloading's model, docs/scenarios.md).

Pure functions on numpy arrays. The codec is the public DeepSC re-implementation: a Transformer
encoder and decoder of ``num_layers`` layers each (``d_model``, feed-forward width ``d_ff``), a
channel encoder ``d_model -> 256 -> k`` and decoder ``k -> d_model -> 512 -> d_model``, and an
output projection onto a vocabulary of ``vocab`` words. Counting multiply-accumulates (MACs) per
token is what lets an environment price local decoding against offloading without running a
network: the output projection (``d_model * vocab`` MACs per token) dominates decoding, which is
why offloading the decoder saves energy.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

_CHANNEL_ENCODER_HIDDEN = 256
_CHANNEL_DECODER_HIDDEN = 512


def deepsc_flops(tokens: ArrayLike, sentence_length: ArrayLike, k: int, *, d_model: int = 128, d_ff: int = 512,
                 num_layers: int = 4, vocab: int = 22_000) -> tuple[FloatArray, FloatArray]:
    """FLOPs ``(encoder, decoder)`` of coding ``tokens`` words in sentences of ``sentence_length`` words.

    ``k`` is the channel encoder's output dimension (symbols per word). Self-attention costs grow
    with the sentence length (the ``L d`` terms). FLOPs = 2 x MACs.
    """
    n = np.asarray(tokens, dtype=np.float64)
    length = np.asarray(sentence_length, dtype=np.float64)
    d = d_model
    encoder_layer = 4 * d * d + 2 * d * d_ff + 2 * length * d
    channel_encoder = d * _CHANNEL_ENCODER_HIDDEN + _CHANNEL_ENCODER_HIDDEN * k
    decoder_layer = 8 * d * d + 2 * d * d_ff + 4 * length * d
    channel_decoder = d * k + 2 * d * _CHANNEL_DECODER_HIDDEN
    output_projection = d * vocab
    encoder = 2.0 * n * (num_layers * encoder_layer + channel_encoder)
    decoder = 2.0 * n * (num_layers * decoder_layer + channel_decoder + output_projection)
    return encoder, decoder


def gpu_kappa(idle_power_w: float, peak_power_w: float, f_max_hz: float) -> float:
    """Coefficient ``kappa`` of ``P(f) = P_0 + kappa f^3`` such that ``P(f_max) = peak_power_w``."""
    return (peak_power_w - idle_power_w) / f_max_hz**3


def gpu_power_w(f_hz: ArrayLike, idle_power_w: float, kappa: float) -> FloatArray:
    """Dynamic-voltage-scaling power model ``P_0 + kappa f^3`` [W] (SemCom-Offloading's model)."""
    f = np.asarray(f_hz, dtype=np.float64)
    return idle_power_w + kappa * f * f * f
