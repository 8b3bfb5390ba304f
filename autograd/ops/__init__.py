"""Built-in differentiable ops, one file per family; each op is a ``Function`` subclass.

Every ``backward`` is written with Tensor operations, so gradients of gradients work.
"""
