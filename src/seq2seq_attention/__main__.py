"""`python -m seq2seq_attention` runs the command line."""
import sys

from .cli import main

sys.exit(main())
