"""pruninglab — correct, tested pruning and quantization for the teaching workbook.

Submodules (import what you need; nothing heavy is imported here):

* :mod:`pruninglab.data`          — the digits data set and its fixed splits
* :mod:`pruninglab.models`        — reference MLP / CNN and their trained weights
* :mod:`pruninglab.train`         — training / evaluation loops
* :mod:`pruninglab.pruning`       — masks, structured pruning, criteria, schedules, statistics
* :mod:`pruninglab.quantization`  — linear / k-means quantization, fake-quant, size accounting
* :mod:`pruninglab.hardware`      — memory formats, energy, roofline, measured latency
* :mod:`pruninglab.grading`       — graded exercises and the command-line grader
* :mod:`pruninglab.ui`            — the slider pattern used by every notebook
* :mod:`pruninglab.seeds`         — the seed documents' text, quoted by the notebooks
"""
__version__ = "0.1.0"
