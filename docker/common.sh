#!/bin/sh
# The part both grading images share, after their Python packages are in /opt/autograder:
# install the engine, prepare the offline data cache, lay out the folders the entry point uses.
set -eu
pip install --no-cache-dir --no-deps --no-build-isolation /tmp/engine
rm -rf /tmp/engine
# /course, /data and /out are the grader's: closed to every other user (the submission's uid)
install -d -m 0700 /course /data /out
install -d -m 0755 /submission
# the offline MNIST subset, cached once in the image rather than once per container
AUTOGRADER_DATA=/data python -c "from autograder.data import load_mnist; load_mnist(seed=0)"
python -c "import autograder.grade, autograder.runners.local, autograder.referee.plugin"
