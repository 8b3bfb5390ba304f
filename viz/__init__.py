"""dagrad's ``viz``: pictures of what the engine computes.

- ``viz.plots`` draws what people look at while training a ConvNet (filters and activation
  maps with their colour scales, training curves) with matplotlib.
- ``viz.draw_graph`` draws the computational graph with Graphviz: the forward graph with
  values and gradients on its wires (the lecture's circuits), or the backward graph, sized
  to fit Jupyter and a README. With ``model=`` each module call is a box; ``depth=``,
  ``collapse=`` and the folding of identical blocks ("x N") draw modules and the loss as
  one node each. ``viz.graph`` walks the graph into plain data, ``viz.render`` writes the DOT text.
- ``viz.backward_steps`` / ``viz.step_through`` / ``viz.save_steps_html`` replay backward one
  node at a time, in the engine's real order, with the chain rule's arithmetic at each step
  (``upstream x local = sent``); ``viz.flat_backprop`` writes the pass as the lecture's flat code.
- ``viz.monitor(model, optimizer)`` watches training health live (activations, gradients,
  grad:data and update:data ratios), redrawn in place in Jupyter and saved as PNGs elsewhere.
"""

from viz.flat import flat_backprop
from viz.graph import Cluster, Edge, Graph, Node, build_graph
from viz.monitor import Monitor, monitor
from viz.plots import plot_activations, plot_filters, plot_history
from viz.render import draw_graph, render_dot
from viz.steps import Frame, Step, StepView, backward_steps, group_steps, save_steps_html, step_through

__all__ = [
    "Cluster",
    "Edge",
    "Frame",
    "Graph",
    "Monitor",
    "Node",
    "Step",
    "StepView",
    "backward_steps",
    "build_graph",
    "draw_graph",
    "flat_backprop",
    "group_steps",
    "monitor",
    "plot_activations",
    "plot_filters",
    "plot_history",
    "render_dot",
    "save_steps_html",
    "step_through",
]
