"""Corpora: the Shakespeare extraction, the Python code corpus, the cache, bad files."""

import os
import re

import pytest

import rnnlab.data.corpus as corpus_mod
from rnnlab.data import PYTHON_MAX_CHARS, Vocab, load_corpus
from rnnlab.data import shakespeare as shakespeare_mod
from rnnlab.data.shakespeare import speeches_from_markdown
from rnnlab.errors import UserError

SPEAKER_LINE = re.compile(r"^[A-Z][^\n:]*:$")


@pytest.fixture(scope="session")
def shakespeare_cache(tmp_path_factory):
    """A cache folder holding the Shakespeare corpus, built once per test session."""
    folder = tmp_path_factory.mktemp("rnnlab-cache")
    load_corpus("shakespeare", cache_dir=folder)
    return folder


@pytest.fixture(scope="session")
def shakespeare(shakespeare_cache):
    return load_corpus("shakespeare", cache_dir=shakespeare_cache).text


def test_shakespeare_size_and_alphabet(shakespeare):
    assert 3_500_000 < len(shakespeare) < 5_500_000
    assert 60 <= Vocab.from_text(shakespeare).size <= 90


def test_shakespeare_starts_with_first_speech_of_first_play_by_path(shakespeare):
    # comedies/a-midsummer-night-s-dream.md sorts first; Theseus opens it.
    assert shakespeare.startswith("THESEUS:\nNow, fair Hippolyta, our nuptial hour\n")


def test_shakespeare_contains_famous_lines(shakespeare):
    assert "HAMLET:\nTo be, or not to be: that is the question:\n" in shakespeare
    assert "O Romeo, Romeo! wherefore art thou Romeo?" in shakespeare


def test_shakespeare_has_no_markup_left(shakespeare):
    # Headings (#), emphasis (_ and *), inline directions ([Aside]), escapes (\--)
    # and markdown line breaks (two trailing spaces) are all dropped.
    for mark in ("#", "_", "*", "[", "]", "\\", "  \n", " \n"):
        assert mark not in shakespeare, mark
    assert "\nExeunt" not in shakespeare and "\nExit" not in shakespeare


def test_shakespeare_speaker_names_mended(shakespeare):
    assert "\nGhost of BUCKINGHAM:\n" in shakespeare
    assert "\nROSENCRANTZ & GUILDENSTERN:\nHamlet! Lord Hamlet!\n" in shakespeare


def test_shakespeare_every_paragraph_is_one_speech(shakespeare):
    paragraphs = shakespeare.split("\n\n")
    assert len(paragraphs) > 25_000
    for paragraph in paragraphs:
        lines = paragraph.rstrip("\n").split("\n")
        assert SPEAKER_LINE.match(lines[0]), lines[0]
        assert len(lines) >= 2 and all(lines[1:]), paragraph


def test_speeches_from_markdown_hand_example():
    md = (
        "# A Play\n\n## ACT I\n\n### SCENE I. A room.\n\n"
        "stray scene text\n\n"
        "_Enter ANNE and Second Lord_\n\n"
        "**ANNE**  \n_\\[Aside]_  \nGood\\--day, my lord.  \nWell met.\n\n"
        "_Exit Second Lord,\nin haste_\n\n"
        "Now he is gone.\n\n"
        "**Second Lord**  \nAy, madam. __\\[Bowing]_\n"
        "**ANNE**  \n*[Reads.]*  \n'Come.'\n\n"
        "*Alarum.*\n\n"
        "Ghost\n\n**of Second Lord**  \nRemember me.\n\n"
        "**ANNE: & Lord:**  \nAway!\n\n"
        "### SCENE II. Another room.\n\n"
        "nobody speaks this\n"
    )
    assert speeches_from_markdown(md) == (
        "ANNE:\nGood--day, my lord.\nWell met.\nNow he is gone.\n"
        "\n"
        "Second Lord:\nAy, madam.\n"
        "\n"
        "ANNE:\n'Come.'\n"
        "\n"
        "Ghost of Second Lord:\nRemember me.\n"
        "\n"
        "ANNE & Lord:\nAway!\n"
    )


def test_cached_corpus_is_read_without_building(shakespeare_cache, shakespeare, monkeypatch):
    def fail():
        raise AssertionError("the builder ran although a cache exists")

    monkeypatch.setattr(shakespeare_mod, "build_shakespeare", fail)
    assert load_corpus("shakespeare", cache_dir=shakespeare_cache).text == shakespeare


@pytest.fixture
def fake_builder(monkeypatch):
    """Replace the Shakespeare builder by a fast one that counts its calls."""
    calls = []

    def build():
        calls.append(1)
        return "ANNE:\nÇa va — 😀\n", "a fake"

    monkeypatch.setattr(shakespeare_mod, "build_shakespeare", build)
    return calls


def _only_cache_file(folder):
    files = list(folder.iterdir())
    assert len(files) == 1, files  # no temporary file left behind
    return files[0]


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[:-3],  # truncated
        lambda raw: raw.replace(b"a va", b"a vu"),  # text changed, header not
        lambda raw: b"not json\n" + raw.split(b"\n", 1)[1],  # header garbage
        lambda raw: raw[:-1] + b"\xff",  # not UTF-8
        lambda raw: b"",  # empty
    ],
    ids=["truncated", "altered", "bad-header", "not-utf8", "empty"],
)
def test_damaged_cache_is_rebuilt(tmp_path, fake_builder, damage):
    first = load_corpus("shakespeare", cache_dir=tmp_path)
    path = _only_cache_file(tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    again = load_corpus("shakespeare", cache_dir=tmp_path)
    assert again == first and len(fake_builder) == 2
    # The rebuild repaired the cache: a third load builds nothing.
    assert load_corpus("shakespeare", cache_dir=tmp_path) == first
    assert len(fake_builder) == 2


def test_format_version_change_invalidates_cache(tmp_path, fake_builder, monkeypatch):
    load_corpus("shakespeare", cache_dir=tmp_path)
    monkeypatch.setattr(corpus_mod, "CORPUS_FORMAT", "999")
    load_corpus("shakespeare", cache_dir=tmp_path)
    assert len(fake_builder) == 2
    assert len(list(tmp_path.iterdir())) == 2


def test_cache_dir_from_environment(tmp_path, fake_builder, monkeypatch):
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "env-cache"))
    corpus = load_corpus("shakespeare")
    assert corpus.text == "ANNE:\nÇa va — 😀\n"
    assert _only_cache_file(tmp_path / "env-cache").read_text(encoding="utf-8").endswith("😀\n")


def test_cache_file_gets_the_mode_open_would(tmp_path, fake_builder):
    old = os.umask(0o027)  # the one atomic writer: 0666 less the umask, not mkstemp's 0600
    try:
        load_corpus("shakespeare", cache_dir=tmp_path)
    finally:
        os.umask(old)
    assert _only_cache_file(tmp_path).stat().st_mode & 0o777 == 0o640


def test_unwritable_cache_still_loads(tmp_path, fake_builder):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    corpus = load_corpus("shakespeare", cache_dir=blocker / "cache")
    assert corpus.text.startswith("ANNE:")


def test_python_corpus(tmp_path):
    corpus = load_corpus("python", cache_dir=tmp_path)
    text = corpus.text
    assert 1_000_000 < len(text) <= PYTHON_MAX_CHARS
    assert "\ndef " in text and "\nimport " in text
    names = re.findall(r"^# ==== (.+) ====$", text, flags=re.MULTILINE)
    assert len(names) > 50 and names == sorted(names)
    assert not any(
        part in {"test", "tests", "idle_test", "site-packages"}
        for name in names
        for part in name.split("/")[:-1]
    )
    assert text.encode("utf-8").decode("utf-8") == text


def test_hello_corpus():
    assert load_corpus("hello").text == "hello"


def test_text_file(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_bytes("\ufeffÇa déjà vu\r\n😀\r\n".encode())
    corpus = load_corpus(str(path))
    # The byte-order mark is dropped, line ends normalised, code points not bytes.
    assert corpus.text == "Ça déjà vu\n😀\n" and len(corpus) == 13
    assert corpus.name == "poem.txt"


def _bad_path(tmp_path, kind):
    if kind == "missing":
        return tmp_path / "nope.txt"
    if kind == "directory":
        return tmp_path
    path = tmp_path / f"{kind}.txt"
    path.write_bytes(b"" if kind == "empty" else b"abc\xff\xfedef")
    return path


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("missing", "does not exist"),
        ("directory", "is a directory"),
        ("empty", "is empty"),
        ("binary", r"not valid UTF-8 \(byte 0xff at offset 3\)"),
    ],
)
def test_bad_text_file(tmp_path, kind, expected):
    path = _bad_path(tmp_path, kind)
    with pytest.raises(UserError, match=expected) as info:
        load_corpus(str(path))
    message = str(info.value)
    assert "\n" not in message and str(path) in message
