"""Interpolating between two drawings (``diffvg-interpolate``): one set of closed filled
Bezier paths is fitted to two targets (SVG files or images), the second fit warm-started
from the first so each path keeps its role, and the drawings in between are the linear
blend of the two fits' control points and colours (Reddy et al.; Im2Vec interpolated
emoji with diffvg this way).

Modules: ``target`` (targets on a square canvas, the loss, PSNR), ``pair`` (the two fits),
``blend`` (structure check, interpolated scenes, frames and strips), ``cli`` (the command).
"""
from .blend import EASINGS, check_common_structure, ease, frame_times, interpolate_scenes, render_frames, strip
from .pair import fit_drawing, fit_pair, initial_blobs
from .target import image_loss, load_target, over_white, psnr

__all__ = ["fit_pair", "fit_drawing", "initial_blobs", "interpolate_scenes", "check_common_structure", "ease",
           "EASINGS", "frame_times", "render_frames", "strip", "load_target", "image_loss", "psnr", "over_white"]
