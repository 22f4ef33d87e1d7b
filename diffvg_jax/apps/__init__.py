"""Applications built on the engine's public API: painterly fitting (``fit``), CLIPDraw
(``clipdraw``) and the MNIST vector VAE (``mnist_vae``), with the pieces they share
(``common``: command-line runner, artifacts, random initial paths).
"""
