"""Per-notebook compute/render functions for the interactive cells (one module per notebook).

Each module holds the *pure* ``compute_*`` functions that a notebook validates in a normal
cell and the ``render_*`` functions its slider UI draws with; keeping them here lets unit
tests drive the widgets (``tests/test_labs_*.py``) and keeps the notebooks short.
"""
