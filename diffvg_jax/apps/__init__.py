"""Applications built on the engine's public API: painterly fitting (``fit``), CLIPDraw
(``clipdraw``) and the MNIST vector VAE (``mnist_vae``), with the pieces they share
(``common``: command-line runner, optimisation loop, parameter labels, renderer budgets,
artifacts, random initial paths). ``common`` imports none of the applications, and no
application imports another.
"""
