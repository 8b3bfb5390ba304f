"""The caching allocator: a buffer is handed out again only when nothing refers to it."""

import numpy as np

from autograd import workspace

SHAPE = (512, 1024)  # 2 MiB of float32: large enough to be cached


def test_a_buffer_in_use_is_never_handed_out_twice():
    a = workspace.empty(SHAPE)
    b = workspace.empty(SHAPE)
    assert not np.shares_memory(a, b)


def test_a_view_keeps_its_buffer_in_use():
    a = workspace.empty(SHAPE)
    view = a[10:20].T
    del a
    b = workspace.empty(SHAPE)
    assert not np.shares_memory(b, view)


def test_a_freed_buffer_is_reused_without_new_memory():
    workspace.empty_cache()
    a = workspace.empty(SHAPE)
    address = a.__array_interface__["data"][0]
    del a
    b = workspace.empty(SHAPE)
    assert b.__array_interface__["data"][0] == address
    used, free = workspace.cached_bytes()
    assert used >= b.nbytes and free == 0


def test_a_slightly_smaller_request_reuses_a_free_buffer_and_a_much_smaller_does_not():
    workspace.empty_cache()
    a = workspace.empty(SHAPE)
    address = a.__array_interface__["data"][0]
    del a
    b = workspace.empty((500, 1024))
    assert b.__array_interface__["data"][0] == address and b.shape == (500, 1024)
    del b
    c = workspace.empty((256, 1024))
    assert c.__array_interface__["data"][0] != address


def test_zeros_dtype_and_small_arrays():
    z = workspace.zeros(SHAPE, np.float64)
    assert z.dtype == np.float64 and z.shape == SHAPE and not z.any() and z.flags.c_contiguous
    z[:] = 7
    del z
    assert not workspace.zeros(SHAPE, np.float64).any()  # a reused buffer is zeroed again
    small = workspace.empty((3, 3), np.int8)
    assert small.shape == (3, 3) and small.dtype == np.int8


def test_empty_cache_frees_only_free_buffers():
    workspace.empty_cache()
    kept = workspace.empty(SHAPE)
    dropped = workspace.empty(SHAPE)
    del dropped
    assert workspace.cached_bytes() == (kept.nbytes, kept.nbytes)
    workspace.empty_cache()
    assert workspace.cached_bytes() == (kept.nbytes, 0)


def test_the_free_buffer_budget_is_kept(monkeypatch):
    workspace.empty_cache()
    monkeypatch.setattr(workspace, "LIMIT", 3 * 2**21)
    for rows in range(600, 1000, 50):  # eight different sizes, each freed at once
        workspace.empty((rows, 1024))
    used, free = workspace.cached_bytes()
    assert used == 0 and free <= 3 * 2**21 + 1000 * 1024 * 4


def test_contiguous_copies_a_strided_view():
    a = np.arange(4 * 1024 * 1024, dtype=np.float32).reshape(2048, 2048)
    view = a[::2, 1::2]
    copy = workspace.contiguous(view)
    assert copy.flags.c_contiguous and not np.shares_memory(copy, a)
    np.testing.assert_array_equal(copy, view)


def test_threads_have_their_own_buffers_and_get_the_same_convolutions():
    from concurrent.futures import ThreadPoolExecutor

    import autograd

    rng = np.random.default_rng(0)
    xs = [autograd.tensor(rng.standard_normal((8, 16, 32, 32)).astype(np.float32)) for _ in range(4)]
    w = autograd.tensor(rng.standard_normal((16, 16, 3, 3)).astype(np.float32))

    def run(x):
        return [autograd.conv2d(x, w, padding=1).numpy().copy() for _ in range(3)]

    alone = [run(x) for x in xs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(run, xs))
    for a, b in zip(alone, together):
        for ya, yb in zip(a, b):
            np.testing.assert_allclose(ya, yb, rtol=1e-5, atol=1e-5)  # (BLAS may split work differently)
