"""A stand-in for Colab's `google.colab`: the chapters only ask
whether it is imported."""
