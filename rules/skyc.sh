#!/bin/sh
# Runs the skyc found on PATH; replace with a pinned binary (see BUILD.bazel).
exec skyc "$@"
