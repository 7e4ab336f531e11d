"""The structure that the sparse learners (SnAp, e-prop, RFLO) exploit: which entries of
the influence matrix they keep, how to read the immediate Jacobian ``I_t`` on them
with a few VJPs, and which part of the recurrent Jacobian ``D_t`` they propagate.

Sparsity patterns are found numerically, once, from the cell's own parameters: the
Jacobians of one step at a few random states and inputs, their non-zero entries
united (a zero weight is a structural zero; a derivative that vanishes at every draw
by chance, such as a relu that stays off four times, would be missed).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.cells import Cell
from rnnlab.errors import UserError
from rnnlab.learn._core import Flat, ravel

DRAWS = 4  # random points whose Jacobian patterns are united


def pointwise_cell(cell) -> bool:
    """Whether ``cell`` separates its recurrent input: ``step = pointwise(s, xp, U h + b)``."""
    return isinstance(cell, Cell) and cell.pointwise_form


def full_jacobian(flat: Flat, s, x):
    """``D = dF/ds`` (n, n): n JVPs of the whole step, O(n p)."""
    return jax.jacfwd(flat.step, argnums=0)(s, flat.theta, x)


def internal_jacobian(flat: Flat, s, x):
    """``dF/ds`` with the recurrent input ``U h(s) + b`` held fixed (n, n): the neuron's
    own dynamics, e-prop's ``dh_j^t / dh_j^{t-1}`` (Bellec et al. 2020). O(n^2)."""
    cell = flat.cell(flat.theta)
    xp = cell.input_proj(x)
    hp = cell.hidden_proj(cell.hidden(flat.unravel_state(s)))
    f = lambda s: ravel(cell.pointwise(flat.unravel_state(s), xp, hp)[0])
    return jax.jacfwd(f)(s)


def block_jacobian(flat: Flat, s, x):
    """``dF/ds`` of a pointwise cell with ``U`` cut to each unit's own entries
    ``U[g H + i, i]``: for a cell whose pointwise part works unit by unit, these are
    exactly the blocks of ``D`` that couple a unit to itself. O(n^2) (no matmul)."""
    cell = flat.cell(flat.theta)
    H = cell.hidden_size
    U = cell.weight_hh.reshape(-1, H, H)  # (G, H, H)
    own = U[:, jnp.arange(H), jnp.arange(H)]  # (G, H)
    xp = cell.input_proj(x)
    h0 = cell.hidden(flat.unravel_state(s))  # (H,)
    hp0 = cell.hidden_proj(h0)  # (G H,): the true recurrent input at s

    def f(s):
        # equal to hp0 at s; its derivative goes through each unit's own weights only
        state = flat.unravel_state(s)
        hp = hp0 + (own * (cell.hidden(state) - h0)).reshape(-1)
        return ravel(cell.pointwise(state, xp, hp)[0])

    return jax.jacfwd(f)(s)


JACOBIANS = {"full": full_jacobian, "internal": internal_jacobian, "block": block_jacobian}


def _random_points(flat: Flat, input_size: int, seed: int):
    rng = np.random.default_rng(seed)
    for _ in range(DRAWS):
        s = jnp.asarray(rng.normal(size=flat.n), flat.dtype)
        x = jnp.asarray(rng.normal(size=input_size), flat.dtype)
        yield s, x


def patterns(cell, modes, seed: int = 0):
    """``(I_pattern (n, p), {mode: D_pattern (n, n)})`` as boolean NumPy arrays, united
    over ``DRAWS`` random states and inputs."""
    flat = Flat(cell)
    imm = jax.jit(lambda s, x: jax.jacrev(flat.step, argnums=1)(s, flat.theta, x))
    jacs = {m: jax.jit(lambda s, x, m=m: JACOBIANS[m](flat, s, x)) for m in modes}
    I_pat = np.zeros((flat.n, flat.p), bool)
    D_pat = {m: np.zeros((flat.n, flat.n), bool) for m in modes}
    for s, x in _random_points(flat, cell.input_size, seed):
        I_pat |= np.asarray(imm(s, x)) != 0
        for m in modes:
            D_pat[m] |= np.asarray(jacs[m](s, x)) != 0
    return I_pat, D_pat


def spread(M: np.ndarray, D_pat: np.ndarray, times: int | None = None) -> np.ndarray:
    """``M`` united with the entries that ``D`` reaches from it in one step, ``times``
    times (None: until nothing changes)."""
    i = 0
    while times is None or i < times:
        grown = M | ((D_pat.astype(np.float32) @ M.astype(np.float32)) > 0)
        if (grown == M).all():
            break
        M, i = grown, i + 1
    return M


def colours(I_pat: np.ndarray) -> np.ndarray:
    """A colour per state row such that no two rows of a colour share a parameter in
    ``I_pat``: one VJP with the sum of a colour's unit vectors then reads ``I_t`` on all
    its rows at once (Curtis, Powell & Reid 1974's grouping, on rows). Greedy."""
    A = I_pat.astype(np.float32)
    clash = (A @ A.T) > 0  # (n, n)
    colour = np.full(I_pat.shape[0], -1)
    for i in range(I_pat.shape[0]):
        taken = set(colour[clash[i] & (colour >= 0)].tolist())
        colour[i] = next(c for c in range(len(taken) + 1) if c not in taken)
    return colour


def compact(M: np.ndarray):
    """The kept entries of each column of ``M`` (n, p): rows ``idx`` (p, r) and a
    validity mask ``ok`` (p, r), r the most that any column keeps."""
    r = max(1, int(M.sum(0).max(initial=0)))
    idx = np.argsort(~M, axis=0, kind="stable")[:r].T  # kept rows first, in order
    ok = np.take_along_axis(M.T, idx, axis=1)
    return idx.astype(np.int32), ok


def block_mode_holds(cell, M: np.ndarray, idx, ok, seed: int = 0) -> bool:
    """Whether ``block_jacobian`` gives the entries of ``D`` that the pattern needs:
    a pointwise cell whose state is units of H, every kept column inside one unit, and
    the unit blocks of ``D`` equal to those of the full Jacobian at random points."""
    if not pointwise_cell(cell):
        return False
    H = cell.hidden_size
    leaves = jax.tree_util.tree_leaves(cell.init_state())
    if any(jnp.shape(a) != (H,) for a in leaves):
        return False
    unit = idx % H
    if (np.where(ok, unit, unit[:, :1]) != unit[:, :1]).any():
        return False
    flat = Flat(cell)
    same = (np.arange(flat.n)[:, None] % H) == (np.arange(flat.n)[None, :] % H)
    both = jax.jit(lambda s, x: (full_jacobian(flat, s, x), block_jacobian(flat, s, x)))
    for s, x in _random_points(flat, cell.input_size, seed + 1):
        full, block = map(np.asarray, both(s, x))
        scale = np.abs(full).max(initial=0.0) + 1e-30
        if np.abs(np.where(same, full, 0) - block).max() > 1e-5 * scale:
            return False
    return True


def leak_of(cell) -> jax.Array:
    """The per-unit leak ``1 - alpha`` of a leaky cell, its state's own decay: MTRNN's
    ``1 - 1/tau``, the leaky Elman's ``1 - alpha``, or a cell's own ``leak()``."""
    from rnnlab.cells.leaky import LeakyElmanCell
    from rnnlab.cells.mtrnn import MTRNNCell

    if isinstance(cell, MTRNNCell):
        return 1 - 1 / jax.lax.stop_gradient(cell.tau)
    if isinstance(cell, LeakyElmanCell):
        return jnp.full(cell.hidden_size, 1 - cell.alpha)
    if callable(getattr(cell, "leak", None)):
        return cell.leak()
    raise UserError(
        f"RFLO applies to leaky cells (MTRNNCell, LeakyElmanCell, or a cell with a leak() "
        f"method), not {type(cell).__name__}"
    )
