"""The op library: one file per family, each op's forward and backward side by side."""
