"""The `tfgan` command line: one small module per command, built on absl flags."""
