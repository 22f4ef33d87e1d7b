"""The MNIST vector VAE: a flax variational autoencoder whose decoder draws each digit as a
few Bezier strokes rendered by :func:`diffvg_jax.render` (``diffvg-mnist-vae``).

Modules:
  data   MNIST loader (Keras ``mnist.npz`` or the original IDX files, gzipped or not) and an
         opt-in, checksum-verified download into a cache directory.
  vae    model, training loop, checkpoints, pictures and the command line.
"""
