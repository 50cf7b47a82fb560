"""The `gradtrace trace` command: a readable table, `--json` as the API's record, errors with a
caret under the offending characters, `python -m gradtrace` and the console script."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gradtrace import trace
from gradtrace.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["trace", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_table_of_the_circuit(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "(x + y) * z", "x=-2", "y=5", "z=-4")
    assert code == 0
    assert "Forward pass" in out and "Backward pass" in out
    fwd, bwd = out.split("Backward pass")
    # Every node with its forward value, in evaluation order.
    rows = [line.split() for line in fwd.splitlines() if re.match(r"n\d+ ", line)]
    assert [(r[1], r[-1]) for r in rows] == [("x", "-2"), ("y", "5"), ("+", "3"), ("z", "-4"),
                                             ("×", "-12")]
    # The backward steps: upstream, each edge's local derivative and downstream gradient.
    assert re.search(r"^1\s+n4 ×\s+1\s+-> n2 \+\s+-4\s+-4\s*$", bwd, re.M)
    assert re.search(r"^\s+-> n3 z\s+3\s+3\s*$", bwd, re.M)
    assert re.search(r"^3\s+n2 \+\s+-4\s+-> n0 x\s+1\s+-4\s*$", bwd, re.M)
    assert "Output: -12" in out
    grads = dict(re.findall(r"^d/d(\w+) = (\S+)$", out, re.M))
    assert grads == {"x": "-4", "y": "-4", "z": "3"}


def test_fan_out_shows_the_sum_term_by_term(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "c = a + b; d = b + 1; e = c * d", "a=2", "b=1")
    assert code == 0
    assert re.search(r"n1 b\s+5 = 2 \+ 3", out)


def test_json_is_the_api_record(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "h = sigmoid(W @ x); sum(h)", "W=[[1,2],[3,4]]", "x=[0.5,-1]",
                       "--json")
    assert code == 0
    expected = trace("h = sigmoid(W @ x); sum(h)", {"W": [[1, 2], [3, 4]], "x": [0.5, -1]})
    assert json.loads(out) == json.loads(json.dumps(expected))


def test_json_with_seed_and_non_finite_values(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "log(x) * y", "x=0", "y=2", "--seed", "3", "--json")
    assert code == 0
    record: dict[str, Any] = json.loads(out)
    assert record == json.loads(json.dumps(trace("log(x) * y", {"x": 0, "y": 2}, seed=3)))
    assert record["value"] == "-Infinity" and record["seed"] == 3.0


def test_tensors_print_as_short_arrays(capsys: pytest.CaptureFixture[str]) -> None:
    big = json.dumps([[float(i + j) for i in range(30)] for j in range(30)])
    code, out, _ = run(capsys, "sum(W * 2)", f"W={big}")
    assert code == 0
    w_row = next(line for line in out.splitlines() if line.startswith("n0 W"))
    assert "..." in w_row and len(w_row) < 300 and "30x30" in w_row
    code, out, _ = run(capsys, "v * 2", "v=[1, -1.5]")
    assert re.search(r"d/dv = \[\s*2\.?,\s*2\.?\]", out), out


def test_bad_expression_shows_a_caret(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "(x + y) * * z", "x=1", "y=2", "z=3")
    assert code != 0 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith("error (syntax):")
    text, caret = lines[1], lines[2]
    assert text.strip() == "(x + y) * * z"
    assert caret.index("^") == text.index("* *") and caret.strip() == "^^^"  # under "* *"


def test_unknown_function_points_at_the_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "x * yyy(x) + 1", "x=1")
    assert code != 0
    lines = err.splitlines()
    assert "error (function)" in lines[0] and "'yyy'" in lines[0]
    assert lines[2].index("^") == lines[1].index("yyy") and lines[2].count("^") == 3


def test_error_at_the_end_of_input_still_has_a_caret(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "q = ", "x=1")
    assert code != 0
    lines = err.splitlines()
    assert len(lines) == 3 and lines[2].strip() == "^"


def test_error_on_a_later_line_shows_that_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "q = x + 1\nr = q ^^ 2\nr", "x=1")
    assert code != 0
    lines = err.splitlines()
    assert lines[1].strip() == "r = q ^^ 2"
    assert lines[2].index("^") == lines[1].index("^^") and lines[2].count("^") == 2


def test_json_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "x +", "x=1", "--json")
    assert code != 0
    assert json.loads(out) == {"error": {"type": "syntax", "message":
                                         "expected an operand after '+'", "start": 2, "end": 3}}


@pytest.mark.parametrize("argv", [
    ["x", "x=abc"],
    ["x", "x"],
    ["x", "x=1", "--seed", "[1"],
])
def test_bad_arguments_are_messages_not_tracebacks(argv: list[str],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["trace", *argv])
    assert info.value.code != 0
    assert "gradtrace:" in str(info.value.code)


def test_bad_value_is_a_value_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "x * 2", "x=[[1, 2], [3]]")
    assert code != 0 and "error (value)" in err and "not rectangular" in err


@pytest.mark.slow  # subprocesses
def test_python_dash_m() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "gradtrace", "trace", "(x + y) * z", "x=-2", "y=5", "z=-4"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert dict(re.findall(r"^d/d(\w+) = (\S+)$", proc.stdout, re.M)) == {
        "x": "-4", "y": "-4", "z": "3"}
    proc = subprocess.run([sys.executable, "-m", "gradtrace", "trace", "x +", "x=1"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0 and "^" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow  # subprocesses
def test_console_script() -> None:
    # Installing the package puts the script beside the interpreter (.venv/bin), on PATH or not.
    beside = Path(sys.executable).with_name("gradtrace")
    exe = shutil.which("gradtrace") or (str(beside) if beside.is_file() else None)
    assert exe is not None, f"the gradtrace console script is neither on PATH nor at {beside}"
    proc = subprocess.run([exe, "trace", "x * x", "x=3", "--json"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["gradients"] == {"x": 6.0}


@pytest.mark.parametrize("argv", [
    ["-x^2", "x=3"],
    ["--json", "-x^2", "x=3"],
    ["-x^2", "x=3", "--json"],
    ["-x^2", "--seed", "1", "x=3"],
    ["--", "-x^2", "x=3"],
])
def test_an_expression_may_start_with_a_minus(argv: list[str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    if "--json" in argv:
        assert json.loads(out)["gradients"] == {"x": -6.0}
    else:
        assert "d/dx = -6" in out


def test_negative_seed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "x * 2", "--seed", "-1", "x=3")
    assert code == 0 and "d/dx = -2" in out


def test_options_may_follow_the_values(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "x * y", "x=3", "y=2", "--json")
    assert code == 0 and json.loads(out)["gradients"] == {"x": 2.0, "y": 3.0}
    code, out, _ = run(capsys, "x * y", "x=3", "--seed", "2", "y=2")
    assert code == 0 and "d/dx = 4" in out


@pytest.mark.slow  # a subprocess
def test_forward_mode_prints_the_tangents_and_the_derivative() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gradtrace", "trace", "(x + y) * z", "x=-2", "y=5", "z=-4",
         "--mode", "forward", "--wrt", "z"], capture_output=True, text=True, check=True).stdout
    assert "Forward mode along z" in out
    assert "d(output)/dz = 3" in out


def test_forward_mode_along_a_direction(capsys: pytest.CaptureFixture[str]) -> None:
    # d(x*y)/dx along 2 is 2y = 6; the table says the direction, the JSON records it.
    code, out, _ = run(capsys, "x * y", "x=2", "y=3", "--mode", "forward", "--wrt", "x",
                       "--tangent", "2")
    assert code == 0 and "d(output)/dx along 2 = 6" in out
    code, out, _ = run(capsys, "x * y", "x=2", "y=3", "--mode", "forward", "--wrt", "x",
                       "--tangent", "2", "--json")
    record = json.loads(out)
    assert code == 0 and record["tangent"] == 2.0 and record["derivative"] == 6.0
    code, out, _ = run(capsys, "sum(x * y)", "x=[1,2]", "y=3", "--mode", "forward", "--wrt",
                       "x", "--tangent", "[1, -1]")
    assert code == 0 and "d(output)/dx along [1, -1] = 0" in out
    with pytest.raises(SystemExit, match=r"tangent \(direction\) is not a number"):
        main(["trace", "x", "x=1", "--mode", "forward", "--wrt", "x", "--tangent", "[1"])
    code, _, err = run(capsys, "x * y", "x=2", "y=3", "--mode", "forward", "--wrt", "x",
                       "--tangent", "[1, 2]")
    assert code == 2 and "has shape (2,)" in err


def test_render_forward_mode_in_process(tmp_path: Any, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    out = tmp_path / "f.svg"
    code = main(["render", "(x + y) * z", "x=-2", "y=5", "z=-4", "--mode", "forward", "--wrt",
                 "y", "--step", "f2", "-o", str(out)])
    assert code == 0
    svg = out.read_text()
    assert "forward 2/5 · forward mode along y</text>" in svg
    assert 'class="node-sum tangent current" text-anchor="middle">d/dy = 1</text>' in svg
    code = main(["render", "(x + y) * z", "x=-2", "y=5", "z=-4", "--mode", "forward", "--wrt",
                 "q", "-o", str(out)])
    assert code == 2 and "'q' is not an input" in capsys.readouterr().err
