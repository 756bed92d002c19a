#!/usr/bin/env bash
# Mutation testing of the statistics modules with mutmut (pip install '.[mutation]').
# Not run in CI: a full run takes tens of minutes on 2 cores. Configuration (modules to
# mutate, the targeted test files) is [tool.mutmut] in pyproject.toml; results and the
# surviving mutants are discussed in benchmarks/MUTATION.md.
#
#   scripts/mutation.sh               # all seven modules
#   scripts/mutation.sh 'impact.inference.mvrm*'  # mutant name globs, e.g. one module
#   MUTATION_CHILDREN=1 scripts/mutation.sh   # parallel workers (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
# mutmut runs the tests from ./mutants; tests/conftest.py looks for the peer reference
# cases in ../shared relative to that copy, i.e. ./shared here.
made_link=0
if [ -d ../shared ] && [ ! -e shared ]; then
    ln -s ../shared shared
    made_link=1
fi
cleanup() { if [ "$made_link" = 1 ]; then rm -f shared; fi; }
trap cleanup EXIT
# the mutated copy must be the one imported, not this checkout via PYTHONPATH
unset PYTHONPATH
python -m mutmut run --max-children "${MUTATION_CHILDREN:-2}" "$@"
python -m mutmut results --all true > benchmarks/mutation_results.txt || true
grep -c ": survived" benchmarks/mutation_results.txt || true
