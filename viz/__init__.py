"""dagrad's ``viz``: pictures of what the engine computes.

``viz.plots`` draws what people look at while training a ConvNet (filters, activation maps,
training curves) with matplotlib.
"""

from viz.plots import plot_activations, plot_filters, plot_history

__all__ = ["plot_activations", "plot_filters", "plot_history"]
