"""``--task codetags``: tokenize classes per character, span F1, the baseline, the CLI."""

import json

import numpy as np
import pytest
from _cli import run

from rnnlab.tasks import SeqData, get_task
from rnnlab.tasks import codetags as C

TINY = ["--hidden", "8", "--embed", "4", "--steps", "3", "--eval-every", "3", "--log-every", "3"]


def _classes(*names):
    return [C.CLASSES.index(n) for n in names]


def test_char_tags_of_a_snippet_by_hand():
    sp, nm, kw, st, nu, co, op = _classes(
        "space", "name", "keyword", "string", "number", "comment", "operator"
    )
    src = 'x = 1  # hi\nif "a":\n    pass\n'
    want = (
        [nm, sp, op, sp, nu, sp, sp, co, co, co, co, sp]  # x = 1  # hi\n
        + [kw, kw, sp, st, st, st, op, sp]  # if "a":\n
        + [sp] * 4
        + [kw] * 4
        + [sp]  # indentation, pass, newline
    )
    assert C.char_tags(src).tolist() == want
    multi = 'a = """x\ny"""\n'  # a string across a line break is one string
    assert C.char_tags(multi).tolist() == [nm, sp, op, sp] + [st] * 9 + [sp]
    assert C.char_tags("print(1.5e3)\n").tolist() == [nm] * 5 + [op] + [nu] * 5 + [op, sp]


def test_span_f1_by_hand():
    assert C.spans([0, 1, 1, 0, 6, 6, 3]) == {(1, 3, 1), (4, 6, 6), (6, 7, 3)}
    true, pred = [0, 1, 1, 0, 6, 6, 3], [0, 1, 1, 0, 6, 3, 3]  # one of three spans right
    assert C.span_f1([true], [pred]) == pytest.approx(2 * 1 / (3 + 3))
    assert C.span_f1([true, [0, 0]], [true, [0, 0]]) == 1.0
    assert C.span_f1([[2, 2]], [[1, 1]]) == 0.0


def baseline_of(name, train, test, info):
    """A task's baseline_metrics on a hand-made train/test pair (the run gives its info)."""
    from types import SimpleNamespace

    from rnnlab.tasks import Dataset

    data = Dataset({"train": train, "test": test}, list(C.CLASSES))
    return get_task(name).baseline_metrics(SimpleNamespace(info=info), data, "test")


def test_the_majority_tag_baseline_by_hand():
    # char ids 2 and 3; id 2 is a name twice and an operator once, id 3 an operator
    x = np.array([[[2], [2], [2], [3]]], np.float32)
    y = np.array([[1, 1, 6, 6]])
    train = SeqData(x, y, np.array([4]))
    test = SeqData(np.array([[[2], [3]]], np.float32), np.array([[1, 1]]), np.array([2]))
    base = baseline_of("codetags", train, test, {"vocab_size": 4})
    p_name_2 = (2 + 1) / (3 + 7)  # add-one over 7 classes
    p_name_3 = (0 + 1) / (1 + 7)
    assert base["accuracy"] == 0.5
    assert base["loss"] == pytest.approx(-(np.log(p_name_2) + np.log(p_name_3)) / 2)
    assert base["span_f1"] == pytest.approx(2 * 0 / (1 + 2))  # (0,2,name) vs two spans


def test_html_colours_runs_and_marks_mistakes(tmp_path):
    from rnnlab.tasks._tokens import encode

    vocab = ["<pad>", "<unk>", "x", " ", "=", "1"]
    data = encode([list("x = 1")], vocab, [C.char_tags("x = 1\n")[:5].tolist()])
    C.write_html(
        tmp_path / "t.html",
        data,
        np.array(_classes(*"name space operator operator number".split())),
        vocab,
    )
    body = (tmp_path / "t.html").read_text().split("<pre>")[1]
    assert body == (
        '<span class="name">x</span><span class="space"> </span><span class="operator">=</span>'
        '<span class="operator bad" title="true: space"> </span><span class="number">1</span></pre>'
    )


def test_splits_are_whole_files():
    data = get_task("codetags").load_data(get_task("codetags").config())
    sizes = {k: int(v.lengths.sum()) for k, v in data.splits.items()}
    assert sizes == C.BUDGET
    assert data.splits["train"].x.shape[1:] == (C.SEQ_LEN, 1)
    files = {}
    rows = C.read_code(files=files)
    assert not set(files["train"]) & set(files["test"])
    assert not set(files["train"]) & set(files["val"]) and not set(files["val"]) & set(
        files["test"]
    )
    first = rows["train"][0][0]  # the first training file starts at its first character
    assert first.startswith(C.stdlib_dir().joinpath(files["train"][0]).read_text()[:40])


def test_cli_trains_evaluates_and_writes_html(tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run(
        capsys, "train", "--task", "codetags", "--out", out, "--batch-size", "32", "--cell",
        "gru", *TINY,
    )  # fmt: skip
    assert code == 0, err
    page = (out / "codetags_val.html").read_text()
    assert page.startswith("<!doctype html>") and 'class="keyword' in page
    code, stdout, err = run(capsys, "eval", out, "--split", "test", "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert set(result) == {"task", "split", "metrics", "baseline"}
    assert set(result["metrics"]) == set(result["baseline"]) == {"loss", "accuracy", "span_f1"}
    assert 0.4 < result["baseline"]["accuracy"] < 0.6
