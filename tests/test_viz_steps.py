"""The chain rule on screen: the step-through of backward (its arithmetic, its fixed layout, the
page in a real headless Chromium, the Jupyter widget), ``flat_backprop``'s lecture listing, and
the Scalar graph's PyTorch semantics for a second ``backward()``.

Tests that render need Graphviz's ``dot``; the browser tests need Chromium, chromedriver and
selenium; each skips without them. PyTorch's behaviour comes from the ``oracle`` fixture.
"""

import math
import re
import shutil
import tempfile
import time

import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from autograd import Scalar
from viz.flat import FlatCode, flat_backprop, value_names
from viz.render import GRAD_COLOR, LOCAL_COLOR
from viz.steps import StepView, backward_steps, group_steps, save_steps_html, step_through

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's `dot` is not installed (apt-get install graphviz)")

LEAVES = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
LECTURE_GRADS = {"w0": "-0.20", "x0": "0.39", "w1": "-0.39", "x1": "-0.59", "w2": "0.20"}

# LECTURE.md section 1: the backward pass written by hand ("flat" backprop), line for line.
LECTURE_LISTING = """\
grad_L = 1
grad_s3 = grad_L * (1 - L) * L
grad_w2 = grad_s3
grad_s2 = grad_s3
grad_s0 = grad_s2
grad_s1 = grad_s2
grad_w1 = grad_s1 * x1
grad_x1 = grad_s1 * w1
grad_w0 = grad_s0 * x0
grad_x0 = grad_s0 * w0"""

LECTURE_STEPS = [
    "step 1 of 6: L = sigmoid(s3)\n"
    "upstream: dL/dL = 1.00: backward starts here\n"
    "upstream 1.00 x local 0.20 = 0.20 -> s3   (local = (1 - L) * L)",
    "step 2 of 6: s3 = s2 + w2\n"
    "upstream: dL/ds3 = 0.20, from L\n"
    "upstream 0.20 x local 1.00 = 0.20 -> w2\n"
    "upstream 0.20 x local 1.00 = 0.20 -> s2",
    "step 3 of 6: s2 = s0 + s1\n"
    "upstream: dL/ds2 = 0.20, from s3\n"
    "upstream 0.20 x local 1.00 = 0.20 -> s0\n"
    "upstream 0.20 x local 1.00 = 0.20 -> s1",
    "step 4 of 6: s1 = w1 * x1\n"
    "upstream: dL/ds1 = 0.20, from s2\n"
    "upstream 0.20 x local -2.00 = -0.39 -> w1   (local = x1)\n"
    "upstream 0.20 x local -3.00 = -0.59 -> x1   (local = w1)",
    "step 5 of 6: s0 = w0 * x0\n"
    "upstream: dL/ds0 = 0.20, from s2\n"
    "upstream 0.20 x local -1.00 = -0.20 -> w0   (local = x0)\n"
    "upstream 0.20 x local 2.00 = 0.39 -> x0   (local = w0)",
    "step 6 of 6: the leaves store their gradients in .grad\n"
    "w2.grad = 0.20\nw1.grad = -0.39\nx1.grad = -0.59\nw0.grad = -0.20\nx0.grad = 0.39",
]


def lecture_circuit():
    """L = sigmoid(w0*x0 + w1*x1 + w2) on Scalars, labelled as in the lecture (no backward yet)."""
    leaves = {name: Scalar(v, label=name) for name, v in LEAVES.items()}
    s0 = leaves["w0"] * leaves["x0"]
    s1 = leaves["w1"] * leaves["x1"]
    s2 = s0 + s1
    s3 = s2 + leaves["w2"]
    L = s3.sigmoid()
    for node, label in ((s0, "s0"), (s1, "s1"), (s2, "s2"), (s3, "s3"), (L, "L")):
        node.label = label
    return L, leaves


class Net(nn.Module):
    """A small ConvNet: conv, ReLU, max pool, flatten, linear."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(4 * 4 * 4, 5))

    def forward(self, x):
        return self.classifier(self.features(x))


def convnet_loss():
    autograd.manual_seed(0)
    model = Net()
    x = autograd.randn(2, 3, 8, 8)
    with autograd.graph.record():
        loss = F.cross_entropy(model(x), autograd.tensor([1, 3]))
    return model, x, loss


# ---------------------------------------------------------------- the steps, as arithmetic


def test_lecture_steps_say_the_chain_rule_as_arithmetic():
    L, leaves = lecture_circuit()
    steps = group_steps(backward_steps(L))
    assert [s.caption for s in steps] == LECTURE_STEPS
    assert [s.number for s in steps] == [1, 2, 3, 4, 5, 6]  # numbered from 1
    assert {k: f"{v.grad:.2f}" for k, v in leaves.items()} == LECTURE_GRADS  # the real pass ran


def test_leaves_are_finished_in_one_step_and_fan_out_is_summed():
    a = Scalar(3.0, label="a")
    h = a * 2  # an intermediate value used three times
    y = h * h + h
    steps = group_steps(backward_steps(y))
    assert [s.title for s in steps] == ["add1 = mul2 + mul1", "mul2 = mul1 * mul1", "mul1 = a * 2",
                                        "a stores its gradient in .grad"]  # fmt: skip
    assert steps[2].lines[0] == "upstream: dL/dmul1 = 1.00 + 6.00 + 6.00 = 13.00, the sum over its 3 uses"
    assert steps[2].lines[1] == "upstream 13.00 x local 2.00 = 26.00 -> a"
    assert steps[-1].lines == ["a.grad = 26.00"] and a.grad == 26.0
    b = Scalar(2.0, label="b")
    z = b * b + b
    last = group_steps(backward_steps(z))[-1]
    assert last.lines == ["b.grad = 1.00 + 2.00 + 2.00 = 5.00"] and b.grad == 5.0


def test_unnamed_values_get_readable_names_never_a_bare_operator():
    x, y = Scalar(1.5), Scalar(-2.0)
    out = ((x * y).exp() + 3 / x - y**2).tanh()
    steps = group_steps(backward_steps(out))
    titles = [s.title for s in steps]
    assert titles[0] == "tanh1 = tanh(sub1)"
    assert "div1 = 3 / leaf1" in titles and "pow1 = leaf2 ** 2" in titles and "mul1 = leaf1 * leaf2" in titles
    for step in steps:
        for line in [step.title, *step.lines]:
            assert not re.search(r"(^|[ (])[-+*/](\)|$| ->| \()", line), line  # no "*" standing for a value
    names = value_names(steps[0].frames[0].graph)
    assert sorted(names.values()) == sorted(["tanh1", "sub1", "add1", "exp1", "mul1", "div1", "pow1", "leaf1", "leaf2"])


def test_tensor_steps_show_elementwise_locals_and_summaries():
    x = autograd.tensor([1.0, -2.0, 3.0, -1.0], requires_grad=True)
    steps = group_steps(backward_steps(x.relu(), autograd.tensor([4.0, -1.0, 5.0, 9.0]), names={"x": x}))
    assert steps[0].lines[1] == (  # LECTURE.md section 4: ReLU's Jacobian is diagonal
        "upstream [4.00, -1.00, 5.00, 9.00] x local [1.00, 0.00, 1.00, 0.00] = [4.00, 0.00, 5.00, 0.00] -> x"
        "   (local = (relu1 > 0))"
    )
    assert steps[1].lines == ["x.grad = [4.00, 0.00, 5.00, 0.00]"]
    w = autograd.randn(8, 3, requires_grad=True)
    h = autograd.randn(5, 8)
    with autograd.graph.record():
        out = (h @ w).sum()
    steps = group_steps(backward_steps(out, names={"w": w, "h": h}))
    assert steps[1].title == "matmul1 = h @ w"
    norm = np.linalg.norm(w.grad._data)
    assert steps[1].lines[1] == f"MatMulBackward(upstream (5, 3) norm {np.sqrt(15):.2f}) = (8, 3) norm {norm:.2f} -> w"


def test_module_level_steps_of_a_small_convnet():
    model, x, loss = convnet_loss()
    steps = group_steps(backward_steps(loss, model=model, depth=1), model=model)
    titles = [s.title for s in steps]
    modules = ["classifier.1", "classifier.0", "features.2", "features.1", "features.0"]
    found = [t.split(" = ")[0] for t in titles if t.split(" = ")[0] in modules]
    assert found == modules  # each module is one step, in the engine's order
    linear = steps[titles.index(next(t for t in titles if t.startswith("classifier.1 = Linear")))]
    assert linear.lines[0].startswith("upstream: dL/dclassifier.1 = (2, 5) norm ")
    assert any(line.startswith("sends (2, 64) norm") and line.endswith("-> classifier.0") for line in linear.lines)
    assert any(line.endswith("-> classifier.1.weight (its .grad is stored in the last step)") for line in linear.lines)
    last = steps[-1].lines
    grad_norm = np.linalg.norm(model.features[0].weight.grad._data)
    assert f"features.0.weight.grad = (4, 3, 3, 3) norm {grad_norm:.2f}" in last
    assert all(len(line) < 120 for s in steps for line in s.lines)  # summaries, not arrays


# ---------------------------------------------------------------- flat_backprop


def test_flat_backprop_reproduces_the_lecture_listing_line_for_line():
    L, leaves = lecture_circuit()
    L.backward()
    code = flat_backprop(L)
    assert isinstance(code, FlatCode) and "\n".join(code.code_lines) == LECTURE_LISTING
    comments = [line.split("# ")[1] for line in code.splitlines()]
    assert comments == ["1.00", "0.20", "0.20", "0.20", "0.20", "0.20", "-0.39", "-0.59", "-0.20", "0.39"]
    assert len({line.index("#") for line in code.splitlines()}) == 1  # the comments line up
    assert {k: f"{v.grad:.2f}" for k, v in leaves.items()} == LECTURE_GRADS  # nothing accumulated twice


def test_flat_code_runs_and_gives_the_engines_gradients():
    """Run the listing as Python, with the forward values in scope: every rule is right."""
    a, b, c = Scalar(0.7, label="a"), Scalar(-1.3, label="b"), Scalar(2.1, label="c")
    steps = [a * b, a / c, 3 / b, c**3, 2**a, (a - c).tanh(), b.exp(), c.log(), (b * 2).relu(), -a, 4 - b]
    out = ((steps[0] + steps[1]) * steps[2] - steps[3] + steps[4]).sigmoid()
    for s in steps[5:]:
        out = out + s * out
    out.backward()
    graph_names = value_names(backward_steps(out, accumulate=False)[0].graph)
    scope = {"log": math.log}
    for node in _nodes(out):
        scope[graph_names[_node_id(out, node)]] = node.data
    exec(flat_backprop(out), scope)  # noqa: S102 - the listing is Python
    for leaf in (a, b, c):
        assert scope[f"grad_{leaf.label}"] == pytest.approx(leaf.grad, rel=1e-12)


def _nodes(root):
    seen, stack, out = {id(root)}, [root], []
    while stack:
        node = stack.pop()
        out.append(node)
        for p in node._parents:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return out


def _node_id(root, node):
    import viz

    return viz.build_graph(root).find(node).id


def test_flat_backprop_adds_where_a_value_is_used_twice_and_of_tensors_shows_shapes():
    a = Scalar(3.0, label="a")
    b = a * a + a
    b.label = "b"
    assert flat_backprop(b).code_lines == [
        "grad_b = 1", "grad_a = grad_b", "grad_mul1 = grad_b", "grad_a += grad_mul1 * a", "grad_a += grad_mul1 * a",
    ]  # fmt: skip
    assert flat_backprop(b).splitlines()[-1].endswith("# 7.00")
    autograd.manual_seed(0)
    X = autograd.randn(4, 3)
    W1, b1 = autograd.randn(3, 5, requires_grad=True), autograd.zeros(5, requires_grad=True)
    with autograd.graph.record():
        h1 = (X @ W1 + b1).relu()
        loss = (h1 * h1).mean()
    names = {"X": X, "W1": W1, "b1": b1, "h1": h1, "loss": loss}
    code = flat_backprop(loss, names=names)
    assert code.code_lines == [
        "grad_loss = 1",
        "grad_mul1 = broadcast_to(grad_loss, mul1.shape) / 20",
        "grad_h1 = grad_mul1 * h1",
        "grad_h1 += grad_mul1 * h1",
        "grad_add1 = grad_h1 * (h1 > 0)",
        "grad_b1 = unbroadcast(grad_add1, b1.shape)",
        "grad_matmul1 = grad_add1",
        "grad_W1 = X.T @ grad_matmul1",
    ]
    lines = code.splitlines()
    assert lines[-1].endswith("# (3, 5)") and lines[2].endswith("# (4, 5)")
    assert W1.grad is None  # flat_backprop replays the pass: nothing accumulated
    loss.backward()
    freed = flat_backprop(loss, names=names)  # the saved values are gone: shapes only, X unknown
    assert freed.code_lines == code.code_lines[:-1] + ["grad_W1 = c.T @ grad_matmul1"]
    assert freed.splitlines()[2].endswith("# (4, 5)")
    assert "# (5,) [" in code  # a tiny gradient shows its values


# ---------------------------------------------------------------- Scalar: PyTorch's second backward

SECOND_BACKWARD = {  # name: program on a leaf (a Scalar or a torch tensor)
    "x * y": lambda x: x * (x + 1),
    "x * 3": lambda x: x * 3,
    "x + 3": lambda x: x + 3,
    "x - 3": lambda x: x - 3,
    "3 - x": lambda x: 3 - x,
    "-x": lambda x: -x,
    "x / 3": lambda x: x / 3,
    "sigmoid": lambda x: x.sigmoid(),
    "exp": lambda x: x.exp(),
    "x ** 2": lambda x: x**2,
}


@pytest.mark.parametrize("name", list(SECOND_BACKWARD))
def test_scalar_second_backward_raises_where_pytorch_does(oracle, name):
    def second_backward_raises(torch, name):
        t = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
        out = SECOND_BACKWARD[name](t)
        out.backward()
        try:
            out.backward()
        except RuntimeError:
            return np.array([1.0, t.grad.item()])
        return np.array([0.0, t.grad.item()])

    theirs = oracle(second_backward_raises, name)
    x = Scalar(2.0)
    out = SECOND_BACKWARD[name](x)
    out.backward()
    try:
        out.backward()
        raised = 0.0
    except RuntimeError as error:
        raised = 1.0
        assert str(error).startswith("Trying to backward through the graph a second time")
        assert "retain_graph=True" in str(error)
    np.testing.assert_allclose([raised, x.grad], theirs)


def test_scalar_backward_errors_like_tensors_and_retain_graph_accumulates():
    L, leaves = lecture_circuit()
    L.backward()
    with pytest.raises(RuntimeError) as scalar_error:
        L.backward()
    t = autograd.tensor(2.0, requires_grad=True)
    y = t.sigmoid()
    y.backward()
    with pytest.raises(RuntimeError) as tensor_error:
        y.backward()
    assert str(scalar_error.value) == str(tensor_error.value).replace("SigmoidBackward", "SigmoidBackward (L)")
    assert {k: f"{v.grad:.2f}" for k, v in leaves.items()} == LECTURE_GRADS  # not doubled
    L, leaves = lecture_circuit()
    L.backward(retain_graph=True)
    L.backward()  # with retain_graph=True the second pass adds the same gradients again
    assert {k: f"{v.grad / 2:.2f}" for k, v in leaves.items()} == LECTURE_GRADS
    with pytest.raises(RuntimeError, match="a second time"):
        L.backward()
    L.zero_grad()
    assert all(v.grad == 0.0 for v in leaves.values())


def test_backward_steps_free_a_scalar_graph_and_replay_a_finished_one():
    L, leaves = lecture_circuit()
    backward_steps(L)  # this is the backward pass: the graph is freed as after L.backward()
    with pytest.raises(RuntimeError, match="a second time"):
        L.backward()
    frames = backward_steps(L)  # a finished Scalar graph can be replayed, nothing accumulates
    assert len(frames) == 10 and {k: f"{v.grad:.2f}" for k, v in leaves.items()} == LECTURE_GRADS
    L, leaves = lecture_circuit()
    backward_steps(L, retain_graph=True)
    L.backward()  # kept: a second pass is allowed and adds up
    assert {k: f"{v.grad / 2:.2f}" for k, v in leaves.items()} == LECTURE_GRADS


# ---------------------------------------------------------------- one layout, restyled per step


def _geometry(svg):
    """Every shape's position attributes, and the label texts' positions, of an SVG string."""
    return re.findall(r'(?<![-\w])(?:points|cx|cy|rx|ry|d|x|y|width|height|transform)="[^"]*"', svg)


@needs_dot
def test_every_step_is_the_same_layout_restyled():
    L, _ = lecture_circuit()
    view = StepView(backward_steps(L))
    svgs = [view.svg(n) for n in range(1, len(view.steps) + 1)]
    assert len(svgs) == 6 and len({tuple(_geometry(s)) for s in svgs}) == 1  # nothing moves
    assert len(set(svgs)) == 6  # but each step looks different
    red = [re.findall(rf'<text[^>]*fill="{GRAD_COLOR}"[^>]*visibility="visible"[^>]*>([^<]*)<', s) for s in svgs]
    assert "&#45;0.20" not in red[0] and "-0.20" not in red[0]  # w0's gradient is not known at step 1
    assert sum(t in ("-0.20", "&#45;0.20") for t in red[-1]) >= 2  # at the end: on w0's wire and in w0's box
    with pytest.raises(IndexError, match="the steps are 1 to 6"):
        view.svg(0)


@needs_dot
def test_local_grads_are_drawn_when_asked():
    L, _ = lecture_circuit()
    page = StepView(backward_steps(L, local_grads=True), local_grads=True).html()
    assert page.count(f'fill="{LOCAL_COLOR}"') >= 9 and "local 2.00" in page
    L, _ = lecture_circuit()
    assert f'fill="{LOCAL_COLOR}"' not in StepView(backward_steps(L)).html()


# ---------------------------------------------------------------- the page, in a real browser


def chromium_driver(width=1200, height=900):
    """A headless Chromium driven by selenium, or skip when one of them is missing."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.skip("Chromium or chromedriver is not installed (apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 f"--window-size={width},{height}"):  # fmt: skip
        options.add_argument(flag)
    options.add_argument("--user-data-dir=" + tempfile.mkdtemp(prefix="dagrad-chromium-"))
    return webdriver.Chrome(options=options, service=Service(driver))  # a given driver: no Selenium Manager


def _positions(browser):
    """Where every node of the picture is on the page."""
    script = """return Array.from(document.querySelectorAll('g.node')).map(function (g) {
        var r = g.getBoundingClientRect(); return [g.id, r.x, r.y, r.width, r.height]; });"""
    return browser.execute_script(script)


@needs_dot
def test_steps_page_in_a_real_headless_browser(tmp_path):
    L, _ = lecture_circuit()
    path = save_steps_html(L, tmp_path / "steps.html")
    page = path.read_text(encoding="utf-8")
    assert page.count("<svg") == 1 and "<script src" not in page and "default-src 'none'" in page
    browser = chromium_driver()
    try:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        from selenium.webdriver.support.ui import WebDriverWait

        browser.get(path.resolve().as_uri())
        body = browser.find_element(By.TAG_NAME, "body")
        caption = browser.find_element(By.ID, "caption")
        counter = browser.find_element(By.ID, "counter")
        slider = browser.find_element(By.ID, "slider")
        first = _positions(browser)
        assert len(first) == 11  # 10 values and the output
        for number, expected in enumerate(LECTURE_STEPS, 1):  # the arrow keys walk through every step
            assert caption.text == expected and counter.text == f"step {number} of 6"
            assert slider.get_attribute("value") == str(number)
            assert _positions(browser) == first  # the layout never moves
            body.send_keys(Keys.ARROW_RIGHT)
        assert counter.text == "step 6 of 6"  # the last step stays
        assert browser.find_element(By.ID, "next").get_attribute("disabled") is not None
        current = browser.find_elements(By.CSS_SELECTOR, 'g.node [fill="#fde047"]')
        assert len(current) == 5  # the leaves, all in one step
        body.send_keys(Keys.ARROW_LEFT)
        assert counter.text == "step 5 of 6"
        body.send_keys(Keys.HOME)
        assert counter.text == "step 1 of 6" and browser.find_element(By.ID, "prev").get_attribute("disabled")
        texts = [t.text for t in browser.find_elements(By.CSS_SELECTOR, f'text[fill="{GRAD_COLOR}"]') if t.text]
        assert "-0.20" not in texts  # at step 1 no leaf has its gradient yet
        browser.find_element(By.ID, "next").click()
        assert counter.text == "step 2 of 6" and caption.text == LECTURE_STEPS[1]
        play = browser.find_element(By.ID, "play")
        play.click()  # play: a step every 1.5 s
        assert "pause" in play.text
        # (a generous wait: a loaded CI machine may run the page slowly)
        WebDriverWait(browser, 30, poll_frequency=0.1).until(lambda b: counter.text == "step 4 of 6")
        play.click()  # pause
        assert "play" in play.text
        paused = counter.text
        time.sleep(1.8)
        assert counter.text == paused  # paused: nothing moves
        assert _positions(browser) == first
    finally:
        browser.quit()


@needs_dot
def test_module_level_page_of_a_convnet_in_the_browser(tmp_path):
    model, x, loss = convnet_loss()
    path = save_steps_html(loss, tmp_path / "cnn.html", model=model, depth=1, names={"x": x})
    browser = chromium_driver()
    try:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        browser.get(path.resolve().as_uri())
        body = browser.find_element(By.TAG_NAME, "body")
        caption = browser.find_element(By.ID, "caption")
        first = _positions(browser)
        seen = []
        for _ in range(12):
            seen.append(caption.text.splitlines()[0])
            assert _positions(browser) == first
            body.send_keys(Keys.ARROW_RIGHT)
        assert any(h.endswith("classifier.1 = Linear(in_features=64, out_features=5, bias=True)") for h in seen)
        assert any(": features.0 = Conv2d(3, 4, kernel_size=(3, 3)" in h for h in seen)
        assert seen[-1].endswith("the leaves store their gradients in .grad")
        width = browser.execute_script("return document.querySelector('#picture svg').getBoundingClientRect().width")
        assert width <= 1200
    finally:
        browser.quit()


# ---------------------------------------------------------------- the Jupyter widget


@needs_dot
def test_step_through_widget_counts_from_one():
    widgets = pytest.importorskip("ipywidgets")
    L, _ = lecture_circuit()
    box = step_through(L)
    assert isinstance(box, widgets.VBox)
    (play, prev, slider, next_), caption, picture = box.children[0].children, box.children[1], box.children[2]
    assert (slider.min, slider.max, slider.value) == (1, 6, 1) and (play.min, play.max) == (1, 6)
    assert "step 1 of 6: L = sigmoid(s3)" in caption.value and "<svg" in picture.value and prev.disabled
    next_.click()
    assert slider.value == 2 and "step 2 of 6: s3 = s2 + w2" in caption.value
    play.value = 4  # what the play button does, step by step
    assert slider.value == 4 and "upstream 0.20 x local -2.00 = -0.39 -&gt; w1" in caption.value
    slider.value = 6
    assert next_.disabled and "x0.grad = 0.39" in caption.value and ">-0.59</text>" in picture.value
    prev.click()
    assert slider.value == 5 and play.value == 5
