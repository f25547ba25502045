"""Distillation of real search output, each rewrite checked by running it in the sandbox."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agents.distil_step import Distiller, DistilResult, cover_of
from agents.generation.formatting import formatted
from agents.generation.readability import measure
from agents.generation.tidy import tidy
from agents.keep_per_test import collect_test_keys
from tests.helpers.generated_samples import TEXTBOX_MODULE, TEXTBOX_PYNGUIN
from tests.helpers.sandbox_phase2 import SandboxPhase2

TARGET = "textbox.py"
# A signed duration parser: '-3m' and '2m' run the same lines and differ only in the result's sign.
_DURATION = ("def seconds(text: str) -> int:\n"
             "    sign = -1 if text.startswith('-') else 1\n"
             "    text = text.lstrip('+-')\n"
             "    if text.endswith('m'):\n"
             "        return sign * int(text[:-1]) * 60\n"
             "    return sign * int(text)\n")


@pytest.fixture
def textbox_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "textbox-repo"
    repo.mkdir()
    (repo / TARGET).write_text(TEXTBOX_MODULE)
    return repo


def _literals(code: str) -> list[str]:
    return [n.value for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


async def test_pynguin_output_becomes_tests_a_reviewer_keeps_with_nothing_lost(textbox_repo: Path) -> None:
    phase2 = SandboxPhase2()
    before = tidy(TEXTBOX_PYNGUIN)
    result = await Distiller(phase2, textbox_repo, TARGET).distil(before)
    assert result.changed, result.note
    looks = measure(result.code)
    assert looks.placeholder_share == 0 and looks.unused_names == 0 and looks.duplicate_imports == 0
    assert looks.assert_share == 1 and looks.median_statements <= 4
    assert "var_" not in result.code and "WIDTH == 40" not in result.code  # no module snapshot
    assert "sys.modules" not in result.code and "import textbox\n" in result.code  # the module by its own name
    # Every line and branch the file as generated ran, the distilled file runs too, and it passes.
    old, new = await phase2.execute(before, textbox_repo, [TARGET]), await phase2.execute(result.code, textbox_repo,
                                                                                           [TARGET])
    assert new["status"] == "success"
    assert cover_of(old) <= cover_of(new)
    # Names say what happens: the empty name is refused, the label of a short text is that text tidied.
    names = collect_test_keys(result.code)
    assert "test_checked_name_raises_value_error_for_empty_string" in names
    assert any(n.startswith("test_label_returns_str") for n in names)
    # Shrinks: Pynguin's 330-character copy of the docstring is refused as a name by length; cut to 0, 1,
    # 8, ... 80 characters it would be accepted, so the shortest that still raises stays, and says so.
    # The 160-character input of label() still takes the cut path at 80 characters, so it is cut to that.
    longest = max(len(s) for s in _literals(before))
    assert longest > 300
    assert result.notes == ["a literal of 160 characters stays: nothing shorter kept what the test covers"]
    assert "Keeps a 160-character input" in result.code
    assert 80 in [len(s) for s in _literals(result.code)]
    # Under plain pytest from the repository, as the user runs it after Save.
    (textbox_repo / "tests").mkdir()
    (textbox_repo / "tests" / "test_textbox.py").write_text(result.code)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                          cwd=textbox_repo, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-2000:]


async def test_a_distillation_due_now_skips_the_shrink_and_says_so_but_still_checks_what_it_wrote(
        textbox_repo: Path) -> None:
    """marshmallow.validate: 24 s of distillation, most of it the shrink's runs one after another, ended the
    request 6-20 s past its due time. Due now, the values stay as search drew them; the file is still checked."""
    phase2 = SandboxPhase2()
    before = tidy(TEXTBOX_PYNGUIN)
    unbounded = await Distiller(phase2, textbox_repo, TARGET).distil(before)
    due = await Distiller(phase2, textbox_repo, TARGET, due_at=time.time()).distil(before)
    assert due.changed, due.note
    assert due.runs < unbounded.runs
    longest = max(len(s) for s in _literals(before))
    assert longest in [len(s) for s in _literals(due.code)]  # not cut
    assert f"Keeps a {longest}-character input: the result was due before shorter ones were tried." in due.code
    assert any("the result was due" in n for n in due.notes)
    run = await phase2.execute(due.code, textbox_repo, [TARGET])
    assert run["status"] == "success"
    assert cover_of(await phase2.execute(before, textbox_repo, [TARGET])) <= cover_of(run)


async def test_a_slice_keeps_units_with_coverage_of_their_own_and_values_become_a_table(textbox_repo: Path) -> None:
    code = ('import sys\nimport pytest\nimport textbox\ntextbox_ = sys.modules["textbox"]\n\n\n'
            "def test_a():\n    var_0 = textbox_.label(text='ab')\n    var_1 = textbox_.label(text='cd')\n\n\n"
            "def test_b():\n    var_0 = textbox_.label(text='ef', width=4)\n"
            "    var_1 = textbox_.label(text='a much longer text than the forty characters of a label')\n\n\n"
            "def test_c():\n    with pytest.raises(ValueError):\n        textbox_.label(text='ab', width=3)\n\n\n"
            "def test_d():\n    with pytest.raises(ValueError):\n        textbox_.checked_name(name='')\n\n\n"
            "def test_e():\n    with pytest.raises(ValueError):\n        textbox_.checked_name(name='x' * 101)\n")
    phase2 = SandboxPhase2()
    result = await Distiller(phase2, textbox_repo, TARGET).distil(code)
    assert result.changed, result.note
    assert result.code == await formatted(result.code)  # handed out in ruff's (Black's) format
    written = result.code
    result.code = ast.unparse(ast.parse(written))  # what it says, whatever the layout
    # 'cd' ran nothing 'ab' did not and set no other option: dropped. 'ef' sets width: kept, as another
    # behaviour (coverage alone dropped it, and the bench's mutation scores fell). The long text takes the cut
    # path: kept.
    assert "'cd'" not in result.code, result.code
    assert "def test_label_returns_str_for_ef():\n    assert textbox.label(text='ef', width=4) == 'ef'" in result.code
    assert "'ab'" in result.code and "a much longer text" in result.code
    # The two labels kept differ only in their values: one test, one table.
    # With them, the typical call of label (a name that says "text": 'Hello World').
    assert ("@pytest.mark.parametrize('text, expected', [('ab', 'ab'), ('a much longer text than the forty "
            "characters of a label', 'a much longer text than the forty cha...'), ('Hello World', 'Hello World')])\n"
            "def test_label_returns_str(text, expected):\n"
            "    assert textbox.label(text=text) == expected\n") in result.code, result.code
    # A typical name is shown accepted, beside search's refusals.
    assert "def test_checked_name_returns_str_for_ada_lovelace():\n" \
        "    assert textbox.checked_name(name='Ada Lovelace') == 'Ada Lovelace'" in result.code
    # Both refusals of a name stay: the empty one and the one over 100 characters raise from other lines.
    assert "name=''" in result.code and "name='x' * 101" in result.code
    assert cover_of(await phase2.execute(code, textbox_repo, [TARGET])) <= \
        cover_of(await phase2.execute(written, textbox_repo, [TARGET]))


async def test_a_kept_expected_failure_holds_and_the_rest_is_distilled(textbox_repo: Path) -> None:
    """An ``xfail(strict=True)`` test reports "xfailed", pytest's word; taken for a failure, it sent the whole
    file back to its generated form on every attempt (the sample repository's calc.py, issue 25)."""
    code = ("import pytest\nimport textbox as module_0\n\n\n"
            "def test_case_0():\n    var_0 = module_0.label(text='ab')\n    assert var_0 == 'ab'\n\n\n"
            "@pytest.mark.xfail(strict=True)\ndef test_case_1():\n    assert module_0.label(text='ab') == 'nope'\n")
    result = await Distiller(SandboxPhase2(), textbox_repo, TARGET).distil(code)
    assert result.changed, result.note
    assert result.note.startswith("distilled:")
    assert "var_0" not in result.code.split("xfail")[0]


async def test_a_file_that_fails_as_generated_is_left_alone(textbox_repo: Path) -> None:
    code = "import textbox\n\n\ndef test_x():\n    assert textbox.label('ab') == 'nope'\n"
    result = await Distiller(SandboxPhase2(), textbox_repo, TARGET).distil(code)
    assert not result.changed and result.code == code
    assert result.note.startswith("left as generated: it did not pass as generated")


async def test_a_shrink_repeats_the_cut_in_the_generators_assertion_and_one_that_still_fails_is_refused(
        tmp_path: Path) -> None:
    """semver 3.1.1: Pynguin asserted ``v == Version(prerelease='<the long text>')``. The cut is written into that
    assertion too (the Box test distils with a short text); where the assertion repeats a value the cut changes
    (the Sized test's ``size``), the run refuses the shrink and that test keeps its values before it, distilled,
    never the whole file going back to its generated form."""
    repo = tmp_path / "box-repo"
    repo.mkdir()
    (repo / "box.py").write_text(
        "from dataclasses import dataclass, field\n\n\n@dataclass\nclass Box:\n    text: str\n\n\n"
        "@dataclass\nclass Sized:\n    text: str\n    size: int = field(init=False)\n\n"
        "    def __post_init__(self):\n        self.size = len(self.text)\n\n\n"
        "def shout(text):\n    return text.upper()\n"
    )
    long = "x" * 120
    generated = (
        "import pytest\nimport box as module_0\n\n\n"
        "def test_case_0():\n"
        f"    str_0 = {long!r}\n"
        "    box_0 = module_0.Box(str_0)\n"
        f"    assert box_0 == module_0.Box({long!r})\n\n\n"
        "def test_case_1():\n"
        "    str_0 = 'abc'\n"
        "    str_1 = module_0.shout(str_0)\n"
        "    assert str_1 == 'ABC'\n\n\n"
        "def test_case_2():\n"
        f"    sized_0 = module_0.Sized({long!r})\n"
        "    assert sized_0.size == 120\n"
    )
    phase2 = SandboxPhase2()
    result = await Distiller(phase2, repo, "box.py").distil(generated)
    assert result.changed, result.note  # the file is distilled, not left as generated
    written = result.code
    result.code = ast.unparse(ast.parse(written))  # what it says, whatever the layout
    assert "shout(text=" in result.code and "str_1" not in result.code
    # The Box test with the shortest text that runs the same lines, in its input and in Pynguin's assertion.
    assert "Box(text='')" in result.code and "module_0.Box('')" in result.code
    # The Sized test: cut, its size would be 0 and the assertion fails; it keeps its 120 characters, and says so.
    assert result.code.count(long) == 1 and f"Sized(text={long!r}).size == 120" in result.code
    assert result.notes == ["a literal of 120 characters stays: nothing shorter kept what the test covers"]
    assert "var_" not in result.code and "sized_0" not in result.code
    assert (await phase2.execute(written, repo, ["box.py"]))["status"] == "success"


async def test_a_negative_result_is_another_behaviour_than_a_positive_one(tmp_path: Path) -> None:
    """pytimeparse in the bench: ``timeparse('-3m') == -180`` ran no line ``'1:24'`` did not, was dropped, and the
    suite's mutation score fell from 38 % to 35 % (the sign's mutants lived). The result's sign counts now."""
    (tmp_path / "duration.py").write_text(_DURATION)
    code = ("import sys\nimport duration\nduration_ = sys.modules['duration']\n\n\n"
            "def test_0():\n    var_0 = duration_.seconds(text='2m')\n    assert var_0 == 120\n\n\n"
            "def test_1():\n    var_3 = '-3m'\n    var_4 = duration_.seconds(text=var_3)\n    assert var_4 == -180\n\n\n"
            "def test_2():\n    var_1 = duration_.seconds(text='7')\n    assert var_1 == 7\n\n\n"
            "def test_3():\n    var_1 = duration_.seconds(text='8')\n    assert var_1 == 8\n")
    result = await Distiller(SandboxPhase2(), tmp_path, "duration.py").distil(code)
    assert result.changed, result.note
    text = ast.unparse(ast.parse(result.code))
    assert "'-3m'" in text and "-180" in text, text  # kept: the only negative result
    assert "'8'" not in text  # '7' and '8' run the same lines and end the same way: one of them is enough
    assert "test_seconds_returns_int_for_minus_3m" in text or "'-3m', -180" in text  # "-3m" is not "3m"


async def _with_optional(repo: Path, target: str, module: str, kept: str, spare: str, optional: set[str]
                         ) -> tuple[SandboxPhase2, dict, DistilResult]:
    """``kept`` distilled with ``spare`` offered as optional, as keep-per-test hands them over: the kept tests'
    own run is what the file must cover."""
    (repo / target).write_text(module)
    phase2 = SandboxPhase2()
    own_run = await phase2.execute(kept, repo, [target])
    result = await Distiller(phase2, repo, target).distil(kept + spare, own_run, optional=frozenset(optional))
    assert result.changed, result.note
    return phase2, own_run, result


async def test_an_optional_test_stays_only_for_a_behaviour_no_kept_test_shows(tmp_path: Path) -> None:
    """Keep-per-test hands distillation the fewest tests that hold the coverage and, as optional, the passing
    ones that added none (agents/candidate_keep.py): the bench's slugify kept 14 tests to Pynguin alone's 21 and
    killed fewer mutants. An optional test showing a new behaviour (a negative result) stays; one repeating a
    kept test's behaviour does not; what the file must cover is the kept tests' own run."""
    head = "import sys\nimport duration\nduration_ = sys.modules['duration']\n\n\n"
    kept = ("def test_0():\n    var_0 = duration_.seconds(text='2m')\n    assert var_0 == 120\n\n\n"
            "def test_2():\n    var_1 = duration_.seconds(text='7')\n    assert var_1 == 7\n\n\n")
    spare = ("def test_1():\n    var_4 = duration_.seconds(text='-3m')\n    assert var_4 == -180\n\n\n"
             "def test_3():\n    var_1 = duration_.seconds(text='8')\n    assert var_1 == 8\n")
    phase2, own_run, result = await _with_optional(tmp_path, "duration.py", _DURATION, head + kept, spare,
                                                   {"test_1", "test_3"})
    text = ast.unparse(ast.parse(result.code))
    assert "'-3m'" in text and "-180" in text, text
    assert "'8'" not in text and "'7'" in text and "'2m'" in text
    # Without the optional tests offered, the negative result is not there: the two kept tests cover every line.
    bare = await Distiller(phase2, tmp_path, "duration.py").distil(head + kept, own_run)
    assert "-180" not in ast.unparse(ast.parse(bare.code))


async def test_an_optional_test_raising_another_error_stays_and_each_says_which(tmp_path: Path) -> None:
    """tomli: one line raises every parse error (``raise suffixed_err(src, pos, "Unclosed array")``), so its
    tests run the same lines and only the message tells them apart; a mutant that changes one message is caught
    only by a test that checks it."""
    module = ("def loads(text):\n    problem = 'Unclosed array' if text.startswith('[') else 'Invalid value' if text "
              "else ''\n    if problem:\n        raise ValueError(f'{problem} (at column {len(text)})')\n    return {}\n")
    head = "import sys\nimport pytest\nimport toml\ntoml_ = sys.modules['toml']\n\n\n"
    kept = ("def test_0():\n    with pytest.raises(ValueError):\n        toml_.loads(text='[1')\n\n\n"
            "def test_1():\n    assert toml_.loads(text='') == {}\n\n\n")
    spare = ("def test_2():\n    with pytest.raises(ValueError):\n        toml_.loads(text='x = ')\n\n\n"
             "def test_3():\n    with pytest.raises(ValueError):\n        toml_.loads(text='[[2')\n")
    phase2, _, result = await _with_optional(tmp_path, "toml.py", module, head + kept, spare, {"test_2", "test_3"})
    text = ast.unparse(ast.parse(result.code))
    assert "'^Unclosed array'" in text and "'^Invalid value'" in text and "match=" in text, text
    assert "'[[2'" not in text  # another input meeting the same error: nothing new to check
    assert "'text, match'" in text  # the table reads input, then what it raises
    assert (await phase2.execute(result.code, tmp_path, ["toml.py"]))["status"] == "success"


async def test_search_noise_becomes_words_unless_a_branch_needs_its_characters(tmp_path: Path) -> None:
    """python-slugify's kept tests read ``slugify(text='G|Sck`x#8JR:~') == 'g-sck-x-8jr'``: a reviewer decodes
    it. Noise becomes "Hello World" where that runs the same lines; ``'&'`` that reaches a branch of its own stays."""
    (tmp_path / "loud.py").write_text(
        "def shout(blob):\n    return blob.upper() + '!'\n\n\n"
        "def escaped(blob):\n    if '&' in blob:\n        return blob.replace('&', '&amp;')\n"
        "    return blob\n")
    code = ("import sys\nimport loud\nloud_ = sys.modules['loud']\n\n\n"
            "def test_case_0():\n    var_0 = 'G|Sck`x#8JR:~'\n    var_1 = loud_.shout(blob=var_0)\n"
            "    assert var_1 == 'G|SCK`X#8JR:~!'\n\n\n"
            "def test_case_1():\n    var_0 = 'x&y`9Zq'\n    var_1 = loud_.escaped(blob=var_0)\n")
    result = await Distiller(SandboxPhase2(), tmp_path, "loud.py").distil(code)
    assert result.changed, result.note
    text = ast.unparse(ast.parse(result.code))
    assert "G|Sck" not in text and "'HELLO WORLD!'" in text, text
    assert "'x&y`9Zq'" in text and "'x&amp;y`9Zq'" in text, text  # the noise that reaches the '&' branch stays


_FORMATTER = ('"""A cut-down arrow.formatter: a datetime and a format of tokens compared one by one."""\n'
              "import datetime\n\n\n"
              "class Formatter:\n"
              "    def __init__(self, locale: str = 'en') -> None:\n"
              "        self.locale = locale\n\n"
              "    def format(self, dt: datetime.datetime, fmt: str) -> str:\n"
              "        return ''.join(self._token(dt, t) for t in fmt.split('-'))\n\n"
              "    def _token(self, dt, token):\n"
              "        if token == 'YYYY':\n"
              "            return f'{dt.year:04d}'\n"
              "        if token == 'MM':\n"
              "            return f'{dt.month:02d}'\n"
              "        if token == 'DD':\n"
              "            return f'{dt.day:02d}'\n"
              "        if token == 'ZZ':\n"
              "            return dt.strftime('%z')\n"
              "        return token\n")


async def test_a_class_s_typical_call_brings_its_rows_as_a_table_and_the_result_counts_their_lines(
        tmp_path: Path) -> None:
    """arrow's formatter: search kept one test making the object (23.5 %); the typical call with a datetime and
    its rows, one per token the class compares with, ran nearly every line, and the figure must say so."""
    (tmp_path / "fmt.py").write_text(_FORMATTER)
    code = ("import fmt as fmt_\n\n\ndef test_case_0():\n    var_0 = fmt_.Formatter(locale='sv')\n"
            "    assert var_0.locale == 'sv'\n")
    phase2 = SandboxPhase2()
    before = await phase2.execute(code, tmp_path, ["fmt.py"])
    result = await Distiller(phase2, tmp_path, "fmt.py").distil(code, before)
    assert result.changed, result.note
    text = ast.unparse(ast.parse(result.code))
    assert "@pytest.mark.parametrize('fmt, expected', [('YYYY', '2024'), ('MM', '03'), ('DD', '15'), " \
           "('ZZ', '+0000')])" in text, text
    assert "tzinfo=datetime.timezone.utc" in text and "import datetime" in text
    assert result.coverage is not None and result.coverage["line_rate"] > before["coverage"]["line_rate"]
    again = await phase2.execute(result.code, tmp_path, ["fmt.py"])
    assert again["status"] == "success" and again["coverage"]["line_rate"] == result.coverage["line_rate"]


async def test_lines_only_the_generator_s_own_check_runs_still_count_as_covered(tmp_path: Path) -> None:
    """bidict._base and semver.version: ``__eq__`` ran only inside Pynguin's ``assert v == BidictBase(...)``; the
    observe form dropped the assertion, the file seemed to lose a line, and it went out as generated."""
    (tmp_path / "box.py").write_text("class Box:\n    def __init__(self, v):\n        self.v = v\n\n"
                                     "    def __eq__(self, other):\n"
                                     "        return isinstance(other, Box) and self.v == other.v\n")
    code = ("import box as box_\n\n\ndef test_case_0():\n    var_0 = box_.Box(3)\n    assert var_0 == box_.Box(3)\n")
    result = await Distiller(SandboxPhase2(), tmp_path, "box.py").distil(code)
    assert result.changed, result.note
    assert "var_0" not in result.code


async def test_what_pytest_runs_to_report_another_tests_failure_does_not_stop_a_shrink(tmp_path: Path) -> None:
    """marshmallow.validate: a typical call that raised made pytest print the validator in its traceback, which
    ran its ``__repr__`` outside any test; a trial of a few units lacked those lines, and every shrink of every
    unit in the file was refused (a 275-character docstring stayed as an input)."""
    (tmp_path / "shout.py").write_text(
        "class Url:\n    def __repr__(self):\n        return '<Url>'\n\n"
        "    def __call__(self, value: str) -> str:\n"
        "        if value.startswith('https'):\n            raise ValueError('no TLS here')\n        return value\n\n\n"
        "def shout(text):\n    return text.upper() if text else ''\n")
    long_text = "Validator which fails if value is a member of iterable. " * 5
    code = f"import shout as shout_\n\n\ndef test_case_0():\n    var_0 = shout_.shout(text={long_text!r})\n"
    result = await Distiller(SandboxPhase2(), tmp_path, "shout.py").distil(code)
    assert result.changed, result.note
    assert long_text not in result.code and "Keeps a" not in result.code, result.code


async def test_a_shrink_that_breaks_a_check_the_generator_wrote_is_refused_for_one_that_keeps_it(
        tmp_path: Path) -> None:
    """marshmallow's ``Range(max_inclusive=<275 characters>)`` shrunk to ``0`` ran the same lines but changed the
    message Pynguin's own assertion checks: the file failed its rerun and the long text came back."""
    (tmp_path / "rng.py").write_text(
        "class Range:\n    def __init__(self, max_inclusive=True):\n        self.max_inclusive = max_inclusive\n"
        "        self.message = 'at most' if max_inclusive else 'below'\n")
    long_text = "Generate a Schema class given a dictionary of fields and a name for it. " * 4
    code = (f"import rng as rng_\n\n\ndef test_case_0():\n    var_0 = rng_.Range(max_inclusive={long_text!r})\n"
            f"    assert var_0.message == 'at most'\n    assert var_0.max_inclusive == {long_text!r}\n")
    result = await Distiller(SandboxPhase2(), tmp_path, "rng.py").distil(code)
    assert result.changed, result.note
    assert long_text not in result.code, result.code
    assert "Range(max_inclusive=True)" in result.code and "== \"at most\"" in result.code, result.code


async def test_an_object_its_repr_makes_again_is_checked_by_equality_with_that_construction(tmp_path: Path) -> None:
    """semver's typical ``Version(major=1).bump_major()`` was dropped (its result "could not be written"), and
    ``replace``'s lines with it; its repr makes an equal ``Version``, which is what a reviewer writes."""
    (tmp_path / "point.py").write_text(
        "class Point:\n    def __init__(self, x: int, y: int = 0):\n        self.x, self.y = x, y\n\n"
        "    def __repr__(self):\n        return f'Point(x={self.x!r}, y={self.y!r})'\n\n"
        "    def __eq__(self, other):\n        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)\n\n"
        "    def moved(self, dx: int) -> 'Point':\n        return Point(self.x + dx, self.y)\n")
    code = "import point as module_0\n\n\ndef test_case_0():\n    var_0 = module_0.Point(x=1)\n"
    result = await Distiller(SandboxPhase2(), tmp_path, "point.py").distil(code)
    assert result.changed, result.note
    assert "assert module_0.Point(x=20).moved(dx=20) == module_0.Point(x=40, y=0)" in result.code, result.code


async def test_a_branch_lost_in_company_brings_back_its_own_tests_not_every_long_value(tmp_path: Path) -> None:
    """marshmallow's URL validator memoizes its pattern: only a second call with the same arguments takes the
    cache's branch, the distilled file lost it, and every unit went back to its values before the shrink
    (865-character docstrings again). Now only the tests that ran the lost branch take their next form."""
    (tmp_path / "memo.py").write_text(
        "_memo = {}\n\n\ndef cached(key):\n    if key not in _memo:\n        _memo[key] = len(key)\n"
        "    return _memo[key]\n\n\ndef shout(text):\n    return text.upper()\n")
    long_text = "Generate a Schema class given a dictionary of fields and a name for it. " * 3
    code = ("import memo as module_0\n\n\ndef test_case_0():\n    int_0 = module_0.cached('k')\n    assert int_0 == 1\n\n\n"
            "def test_case_1():\n    int_0 = module_0.cached('k')\n    assert int_0 == 1\n\n\n"
            f"def test_case_2():\n    str_0 = module_0.shout({long_text!r})\n")
    result = await Distiller(SandboxPhase2(), tmp_path, "memo.py").distil(code)
    assert result.changed, result.note
    assert long_text not in result.code and "shout(text=" in result.code, result.code
    assert result.code.count("cached(") >= 2, result.code  # the cache's second call, in the file again


async def test_what_recording_a_value_runs_is_not_counted_as_the_units_own(tmp_path: Path) -> None:
    """Recording a result reads its repr and length: counted, a unit that only made a ``Range(error=URL())``
    "ran" both classes' ``__repr__``, the slice kept it in place of the test that printed one, and the distilled
    file lost those lines (marshmallow's went out as generated). Here the record's ``len`` stood in for a check."""
    (tmp_path / "shape.py").write_text(
        "class Box:\n    def __init__(self, size):\n        self.size = size\n\n"
        "    def __len__(self):\n        return self.size\n")
    code = ("import shape as module_0\n\n\ndef test_case_0():\n    box_0 = module_0.Box(3)\n    assert box_0.size == 3\n\n\n"
            "def test_case_1():\n    box_0 = module_0.Box(4)\n    assert len(box_0) == 4\n")
    result = await Distiller(SandboxPhase2(), tmp_path, "shape.py").distil(code)
    assert result.changed, result.note
    assert "assert len(box) == 4" in result.code, result.code  # the test that measures one is kept


async def test_a_long_check_of_what_an_object_stored_follows_its_shrunk_input(tmp_path: Path) -> None:
    """Pynguin checks what a constructor stored: ``values_text == 'e, r, r, o, r, ...'`` (marshmallow's 800
    characters of a docstring joined). Held as written, no shorter input could pass it; it is written again from
    what the shrunk object holds. A short check (``message == 'at most'``) still must hold (above)."""
    (tmp_path / "choice.py").write_text(
        "class NoneOf:\n    def __init__(self, iterable):\n        self.iterable = iterable\n"
        "        self.values_text = ', '.join(str(v) for v in iterable)\n")
    long_text = "Generate a Schema class given a dictionary of fields and a name for it. " * 2
    joined = ", ".join(long_text)
    code = (f"import choice as module_0\n\n\ndef test_case_0():\n    var_0 = module_0.NoneOf({long_text!r})\n"
            f"    assert var_0.values_text == {joined!r}\n")
    result = await Distiller(SandboxPhase2(), tmp_path, "choice.py").distil(code)
    assert result.changed, result.note
    assert long_text not in result.code and joined not in result.code, result.code
    assert ".values_text ==" in result.code, result.code
