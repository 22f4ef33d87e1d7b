"""Applications built on the engine's public API: painterly fitting (``fit``), interpolation
between drawings (``interpolate``), CLIPDraw (``clipdraw``) and the MNIST vector VAE
(``mnist_vae``), with the pieces they share (``common``: command-line runner and shared
options, optimisation loop and progress display, parameter labels, renderer budgets,
artifacts, random initial paths). ``common`` imports none of the applications, and no
application imports another.
"""
