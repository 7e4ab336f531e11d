"""``rnnlab train --learner rtrl|uoro|... --update-every k``: the engine's online training
against rnnlab.learn driven by hand, resume, data parallelism and the refusals."""

import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _cli import run

from rnnlab import learn
from rnnlab.engine import io
from rnnlab.tasks import get_task
from rnnlab.tasks._data import scaled
from rnnlab.tasks._online import online_problem

LAG, B, LR = 3, 8, 0.5  # sequences of LAG + 2 = 5 steps
SGD = ["--optimizer", "sgd", "--momentum", "0", "--clip", "0", "--lr", str(LR)]


RECALL = ("recall", "elman", {"lag": LAG})  # the task, the cell, the task's options
EVIDENCE = ("evidence", "alif", {"cues": 1, "delay": 0})  # 25 steps of 40 input spikes


def _args(out, learner, k, steps, *extra, run=RECALL):
    task, cell, options = run
    flags = [x for name, v in options.items() for x in (f"--{name}", v)]
    online = [] if learner == "bptt" else ["--update-every", k]
    return ["train", "--task", task, *flags, "--cell", cell, "--hidden", 4,
            "--batch-size", B, "--learner", learner, *online, "--steps", steps,
            "--eval-every", 1000, "--log-every", 1, "--out", out, *extra]  # fmt: skip


def _start(run=RECALL):
    """The run's first model, as rnnlab.learn sees it, and the task's training batches."""
    name, cell, options = run
    task = get_task(name)
    config = task.config(cell=cell, hidden=4, batch_size=B, **options)
    data = task.load_data(config)
    info = data.info()
    model = task.build_model(config, info)
    batches = task.batches(scaled(data.splits["train"], info), config)
    return learn.Network(model.rnn.cells[0][0], model.readout), batches


def _reference(name, k, steps, adam=None, run=RECALL):
    """The same run driven by hand: rnnlab.learn's online step on the task's batches, one
    plain SGD update (lr / count) after each chunk, the traces fresh at each batch; with
    ``adam`` (an optax optimizer) its update after each chunk that holds a target, none
    after the others. Returns the model and each chunk's (summed loss, count)."""
    net, batches = _start(run)
    learner = learn.make_learner(name, net)
    floats = lambda tree: eqx.filter(tree, eqx.is_inexact_array)
    opt_state, chunks = (None if adam is None else adam.init(floats(net))), []

    def loss_fn(outs, target):  # cross-entropy at the query, when it is in this chunk
        y, pos = target
        here = (pos >= 0) & (pos < outs.shape[0])
        logp = jax.nn.log_softmax(outs[jnp.clip(pos, 0, outs.shape[0] - 1)])
        return jnp.where(here, -logp[y], 0.0), here.astype(jnp.float32)

    step = jax.jit(learn.make_step(learner, loss_fn))
    done, b = 0, 0
    while done < steps:
        x, y, lengths = batches.get(b)
        carry = learn.init_carry(learner, net, B)
        for lo in range(0, x.shape[1], k):
            if done == steps:
                break
            target = (jnp.asarray(y), jnp.asarray(lengths - 1 - lo))
            grads, carry, (total, count) = step(
                carry, net, (jnp.asarray(x[:, lo : lo + k]), target)
            )
            chunks.append((float(total), float(count)))
            scale = 1 / max(float(count), 1.0)
            if adam is None:
                net = jax.tree_util.tree_map(
                    lambda p, g, s=scale: p - LR * s * g if eqx.is_inexact_array(p) else p,
                    net, grads,
                )  # fmt: skip
            elif count > 0:
                grads = jax.tree_util.tree_map(lambda g, s=scale: g * s, floats(grads))
                updates, opt_state = adam.update(grads, opt_state, floats(net))
                net = eqx.apply_updates(net, updates)
            done += 1
        b += 1
    return net, chunks


@pytest.mark.parametrize(
    "learner, k, steps, task",
    [
        ("rtrl", 1, 12, RECALL),
        ("bptt", 5, 3, ("recall", "lif", {"lag": LAG})),  # BPTT through the surrogate
        ("eprop", 25, 3, EVIDENCE),  # the spiking adaptive cell on the e-prop paper's task
    ],
)
def test_engine_equals_the_library_driven_by_hand(learner, k, steps, task, tmp_path, capsys):
    """Two devices (the batch split, each row with its traces, gradients psum-ed) against
    one process by hand (k = 2, padding the last chunk: the next test). --cell lif by BPTT (the
    engine's own loss, not a learner's) against rnnlab.learn's BPTT over whole sequences;
    --cell alif by e-prop on the evidence task."""
    out = tmp_path / "run"
    code, _, err = run(capsys, *_args(out, learner, k, steps, *SGD, run=task))
    assert code == 0, err
    assert json.loads((out / "config.json").read_text())["devices"]["count"] == 2
    model = get_task(task[0]).load_run(out).model  # best.eqx: the one evaluation, the last
    ref, _ = _reference(learner, k, steps, run=task)
    got = learn.Network(model.rnn.cells[0][0], model.readout)
    for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(ref), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-5, atol=2e-6)
    first, _ = _start(task)
    moved = np.abs(np.asarray(got.cell.weight_ih - first.cell.weight_ih))
    assert moved.max() > 1e-4  # the cell's weights learnt (not only the readout)


def test_adam_skips_the_chunks_without_a_target_and_the_loss_is_per_target(tmp_path, capsys):
    """recall's answer is in the last of 3 chunks (k = 2, the last one padded): Adam steps
    only there (its moments and step count untouched by the 2 empty chunks), as a hand loop
    that skips them; the logged loss of a window is its summed loss over its count of
    targets (one per row), and a window without a target waits for the next."""
    import optax

    out, lr = tmp_path / "run", 0.05
    adam = ["--optimizer", "adam", "--clip", "0", "--lr", str(lr), "--log-every", "2"]
    code, _, err = run(capsys, *_args(out, "snap1", 2, 14, *adam))
    assert code == 0, err
    ref, chunks = _reference("snap1", 2, 14, adam=optax.adam(lr))
    model = get_task("recall").load_run(out).model  # best.eqx: the one evaluation, the last
    got = learn.Network(model.rnn.cells[0][0], model.readout)
    for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(ref), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-5, atol=2e-6)
    rows = [json.loads(r) for r in (out / io.METRICS).read_text().splitlines()]
    logged = [(r["step"], r["loss"]) for r in rows if "loss" in r]
    # windows of 2 chunks; targets at steps 3, 6, 9, 12: steps 1-2 hold none (no row), the
    # row of step 4 covers 1-4; 7-8 none, the row of 10 covers 7-10; 13-14 none (no row)
    totals = np.array(chunks)
    spans = {4: (0, 4), 6: (4, 6), 10: (6, 10), 12: (10, 12)}
    assert [s for s, _ in logged] == list(spans), logged
    expect = [totals[a:b, 0].sum() / totals[a:b, 1].sum() for a, b in spans.values()]
    np.testing.assert_allclose([v for _, v in logged], expect, rtol=1e-5)


def test_resume_equals_one_run(tmp_path, capsys):
    """Stopped inside a batch (step 7 = chunk 2 of batch 1) and resumed: the learner state
    (UORO's traces and draws) comes back from last.eqx; the same bytes as one run."""
    one, two = tmp_path / "one", tmp_path / "two"
    assert run(capsys, *_args(one, "uoro", 1, 12))[0] == 0
    assert run(capsys, *_args(two, "uoro", 1, 7))[0] == 0
    assert run(capsys, *_args(two, "uoro", 1, 12), "--resume")[0] == 0
    assert (one / io.LAST).read_bytes() == (two / io.LAST).read_bytes()
    code, _, err = run(capsys, *_args(two, "rtrl", 1, 14), "--resume")  # other traces
    assert code == 2 and "--learner differs" in err, err


@pytest.mark.parametrize(
    "name, options", [("recall", {"lag": 3}), ("xor", {}), ("adding", {"length": 8})]
)
def test_rtrl_over_a_whole_sequence_is_the_task_s_bptt_gradient(name, options):
    """One chunk of all T steps: exact RTRL's gradient through the engine's online loss (the
    surrogate L + g.(theta - sg(theta))) equals jax.grad of the task's own BPTT loss, for a
    label at the end (recall), one per step (xor) and a regression at a varying last step
    (adding): the targets cut for the chunks and the row losses are the task's."""
    task = get_task(name)
    config = task.config(cell="gru", hidden=3, batch_size=4, **options)
    data = task.load_data(config)
    info = json.loads(json.dumps(data.info()))
    problem = task.problem(task.build_model(config, info), data, config)
    T = problem.batches.get(0)[0].shape[1]
    online = online_problem(
        problem, config.replace(learner="rtrl", update_every=T), task.online_kind()
    )
    params, static = eqx.partition(problem.model, eqx.is_array)

    @jax.jit
    def grads(p, online_batch, carry, batch):  # one program for both
        of = lambda loss, batch, carry: jax.grad(
            lambda p: loss(eqx.combine(p, static), batch, carry, None)[0]
        )(p)
        return of(online.loss, online_batch, carry), of(problem.loss, batch, None)

    ours, bptt = grads(params, online.batches.get(0), online.init_carry(4), problem.batches.get(0))
    for a, b in zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(bptt), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6 * float(jnp.abs(b).max() + 1))


@pytest.mark.parametrize(
    "extra, says",
    [
        (["--learner", "rflo", "--cell", "lstm"], "RFLO applies to leaky cells"),
        (["--learner", "rflo", "--cell", "lif"], "RFLO applies to leaky cells"),
        (["--learner", "rtrl", "--update-every", "0"], "--update-every must be >= 1"),
        (["--learner", "rtrl", "--truncate", "3"], "--truncate applies only with --learner bptt"),
        (["--update-every", "2"], "--update-every applies only with an online --learner"),
        (["--learner", "rtrl", "--hidden", "128", "--batch-size", "64"], "over the bound of"),
        (["--learner", "eprop", "--model", "conv1d"], "trains --model rnn"),
        (["--learner", "snap1", "--layers", "2"], "one recurrent layer"),
    ],
)
def test_refusals_are_one_line_and_write_nothing(extra, says, tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--task", "recall", "--steps", 2, "--out", out, *extra)
    assert code == 2 and says in err, err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("flags", [["--learner", "rtrl"], ["--cell", "lif"]])
def test_a_task_without_online_learning_refuses(flags, tmp_path, capsys):
    """An online learner, or a spiking cell, trains one layer and a readout: not numbers'
    sequence-to-sequence model."""
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--task", "numbers", *flags, "--out", out)
    assert code == 2 and " ".join(flags) in err and "numbers" in err, err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_help_lists_the_learners(capsys):
    code, out, _ = run(capsys, "train", "--task", "xor", "--help")
    flat = " ".join(out.split())
    assert code == 0 and "--update-every" in flat
    assert "[bptt|rtrl|uoro|snap1|snap2|rflo|eprop]" in flat
