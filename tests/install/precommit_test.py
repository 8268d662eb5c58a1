#!/usr/bin/env python3
"""The pre-commit hook (.pre-commit-hooks.yaml) through `pre-commit try-repo`.

Usage: precommit_test.py SOURCE_ROOT FFQ_BINARY

In a scratch git repository with a model, the file ffq generated from it and
a pyproject.toml that lists the pair under [tool.ffq] check, the hook
`ffq-check` of SOURCE_ROOT (run with pre-commit 4.7.0 from PyPI, which
scripts/test installs) must pass while the generated file is current, fail
with ffq's diff once the model changes, and pass again after the file is
regenerated. FFQ_BINARY's directory is put first on PATH: the hook runs the
ffq of the user's environment. Last line: `pre-commit: N passed, M failed`.
"""
import os
import subprocess
import sys
import tempfile

PRE_COMMIT = "4.7.0"

MODEL = """import torch
from torch import nn


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.fc(x))
"""

PYPROJECT = """[project]
name = "scratch"
version = "0"

[tool.ffq]
check = ["model.py -> quantized_model.py"]
"""


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: precommit_test.py SOURCE_ROOT FFQ_BINARY")
    root, ffq = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FFQ", "GIT_", "PRE_COMMIT"))}
    env["PATH"] = os.pathsep.join([os.path.dirname(ffq), env.get("PATH", "")])
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="ffq-pre-commit-") as tmp:
        env["PRE_COMMIT_HOME"] = os.path.join(tmp, "cache")
        env["GIT_CONFIG_GLOBAL"] = os.path.join(tmp, "gitconfig")
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        repo = os.path.join(tmp, "scratch")
        os.makedirs(repo)

        def sh(cmd):
            p = subprocess.run(cmd, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True, timeout=900)
            return p.returncode, p.stdout

        def step(name, fn):
            nonlocal passed, failed
            try:
                fn()
                passed += 1
                print("ok    " + name, flush=True)
            except Fail as e:
                failed += 1
                print("FAIL  %s: %s" % (name, e), flush=True)
                return False
            return True

        def try_repo(*extra):
            return sh([sys.executable, "-m", "pre_commit", "try-repo", root, "ffq-check", *extra])

        def setup():
            rc, out = sh([sys.executable, "-m", "pre_commit", "--version"])
            check(rc == 0 and out.split()[-1] == PRE_COMMIT,
                  "pre-commit %s is needed (./scripts/test installs it): %s" % (PRE_COMMIT, out.strip()))
            with open(env["GIT_CONFIG_GLOBAL"], "w") as f:
                f.write("[user]\n\tname = ffq test\n\temail = test@example.invalid\n[init]\n\tdefaultBranch = main\n")
            for name, text in (("model.py", MODEL), ("pyproject.toml", PYPROJECT)):
                with open(os.path.join(repo, name), "w", encoding="utf-8") as f:
                    f.write(text)
            rc, out = sh([ffq, "autoquant", "model.py", "-o", "quantized_model.py", "-q"])
            check(rc == 0, "ffq autoquant failed:\n" + out)
            for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "start"]):
                rc, out = sh(cmd)
                check(rc == 0, "%s: %s" % (" ".join(cmd), out))

        def fresh_passes():
            rc, out = try_repo("--all-files")
            check(rc == 0 and "Passed" in out, "the hook did not pass on a fresh file (exit %d):\n%s" % (rc, out))

        def stale_fails():
            with open(os.path.join(repo, "model.py"), "w", encoding="utf-8") as f:
                f.write(MODEL.replace("torch.sigmoid", "torch.tanh"))
            rc, out = sh(["git", "add", "model.py"])
            check(rc == 0, out)
            rc, out = try_repo()  # the staged change, as in a commit
            check(rc == 1 and "Failed" in out, "the hook did not fail on a stale file (exit %d):\n%s" % (rc, out))
            check("'quantized_model.py' is stale" in out and "+++ (generated)" in out and "tanh" in out,
                  "no diff and no reason in the hook's output:\n" + out)

        def regenerated_passes():
            rc, out = sh([ffq, "autoquant", "model.py", "-o", "quantized_model.py", "--force", "-q"])
            check(rc == 0, out)
            rc, out = sh(["git", "add", "quantized_model.py"])
            check(rc == 0, out)
            rc, out = try_repo()
            check(rc == 0 and "Passed" in out, "the hook did not pass after regenerating (exit %d):\n%s" % (rc, out))
            rc, out = sh(["git", "commit", "-q", "-m", "regenerated"])
            check(rc == 0, out)

        if step("setup", setup):
            step("fresh generated file passes", fresh_passes)
            step("stale generated file fails", stale_fails)
            step("regenerated file passes", regenerated_passes)
    print("pre-commit: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
