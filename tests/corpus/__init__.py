"""The reading corpus: what lecturers paste, with its hand-written reading and a PyTorch reference.

Each module holds `ENTRIES` (inputs gradtrace should read) and `EXCLUDED` (lines of the lecture
notes that compute nothing gradtrace can trace, each with its reason). tests/test_corpus.py reads
every module listed in `MODULES`.
"""

MODULES = ("notes_tf", "notes_eecs", "notes_autodiff", "notes_flow", "notes_torch", "latex_math",
           "code")
