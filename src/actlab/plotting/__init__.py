"""Figures, drawn with matplotlib's object interface (``matplotlib.figure.Figure``).

Never imported by ``import actlab``; never touches pyplot's global state or a GUI backend, so
figures can be drawn from threads, tests and headless machines alike. Each function returns a
``Figure``; saving (PNG, SVG or PDF by the suffix) is the caller's choice.
"""
