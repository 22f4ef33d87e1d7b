"""Worked applications of diffvg_jax.

Modules:
  mnist_data   MNIST loader (Keras ``mnist.npz`` or the original IDX files, gzipped or not)
               and an opt-in, checksum-verified download into a cache directory.
  mnist_vae    a flax variational autoencoder whose decoder draws each digit as a few
               Bezier strokes rendered by :func:`diffvg_jax.render`
               (``python -m diffvg_jax.examples.mnist_vae --help``).
"""
