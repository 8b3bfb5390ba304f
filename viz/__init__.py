"""dagrad's ``viz``: pictures of what the engine computes.

- ``viz.plots`` draws what people look at while training a ConvNet (filters, activation
  maps, training curves) with matplotlib.
- ``viz.draw_graph`` draws the computational graph with Graphviz: the forward graph with
  values and gradients on its wires (the lecture's circuits), or the backward graph.
  ``viz.graph`` walks the graph into plain data, ``viz.render`` writes the DOT text.
- ``viz.backward_steps`` / ``viz.step_through`` / ``viz.save_steps_html`` replay backward one
  node at a time, in the engine's real order.
"""

from viz.graph import Cluster, Edge, Graph, Node, build_graph
from viz.plots import plot_activations, plot_filters, plot_history
from viz.render import draw_graph, render_dot
from viz.steps import Frame, backward_steps, save_steps_html, step_through

__all__ = [
    "Cluster",
    "Edge",
    "Frame",
    "Graph",
    "Node",
    "backward_steps",
    "build_graph",
    "draw_graph",
    "plot_activations",
    "plot_filters",
    "plot_history",
    "render_dot",
    "save_steps_html",
    "step_through",
]
