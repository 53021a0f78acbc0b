"""The Train assignment's grader: runs a submission in a sandbox, scores it with
otter-format test files, and writes Gradescope's results.json.

This package never imports TensorFlow in the grading (trusted) process; only the
sandboxed worker does.
"""
